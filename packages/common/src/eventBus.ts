import type { Logger } from "./logger.ts";

/** Event map: event name to its single, plain, cloneable payload. */
export type EventMap = Record<string, unknown>;

export type Listener<T> = (payload: T) => void | Promise<void>;

export type EventBusOptions = {
  /** The owning module, used in the log line when a listener throws. */
  name: string;
  logger?: Logger;
};

/**
 * A typed event bus, one per module (Lodestar's habit). `emit` never waits on listeners:
 * they run on a microtask after `emit` returns, each isolated, so a slow, throwing or
 * rejecting listener can neither block the emitter nor stop the other listeners. A throw is
 * logged, never propagated.
 */
export class EventBus<E extends EventMap> {
  private readonly listeners = new Map<keyof E, Set<Listener<never>>>();
  private readonly name: string;
  private readonly logger: Logger | undefined;
  private errors = 0;

  constructor(opts: EventBusOptions) {
    this.name = opts.name;
    this.logger = opts.logger;
  }

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  /** Adds a listener that is removed after its first call. */
  once<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const off = this.on(event, (payload) => {
      off();
      return listener(payload);
    });
    return off;
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    const set = this.listeners.get(event);
    if (!set) return;
    set.delete(listener as Listener<never>);
    if (set.size === 0) this.listeners.delete(event);
  }

  /** Resolves with the next payload of `event`, or rejects when `signal` aborts. */
  waitFor<K extends keyof E>(event: K, signal?: AbortSignal): Promise<E[K]> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        off();
        reject(signal?.reason);
      };
      const off = this.once(event, (p) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(p);
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    // Snapshot: listeners added or removed during dispatch do not change this emission.
    const snapshot = [...set] as Listener<E[K]>[];
    queueMicrotask(() => {
      for (const listener of snapshot) this.call(event, listener, payload);
    });
  }

  listenerCount<K extends keyof E>(event: K): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** How many listener calls threw or rejected since the bus was made. */
  get listenerErrors(): number {
    return this.errors;
  }

  removeAllListeners(): void {
    this.listeners.clear();
  }

  private call<K extends keyof E>(event: K, listener: Listener<E[K]>, payload: E[K]): void {
    try {
      const r = listener(payload);
      if (r && typeof (r as Promise<void>).then === "function") {
        (r as Promise<void>).then(undefined, (err: unknown) => this.report(event, err));
      }
    } catch (err) {
      this.report(event, err);
    }
  }

  private report(event: keyof E, err: unknown): void {
    this.errors++;
    this.logger?.error("event listener failed", { bus: this.name, event: String(event), err });
  }
}
