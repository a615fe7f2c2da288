import { EventBus, type Logger, type Metrics } from "@dseq/common";
import { L1ErrorKind, L1ListenerError, L1ListenerErrorCode } from "./errors.ts";
import { findAncestor } from "./findAncestor.ts";
import type { KvStore } from "./kvStore.ts";
import { createL1Client, defaultL1ClientOptions, type L1Client, type L1ClientOptions } from "./l1Client.ts";
import { createListenerMetrics, type ListenerMetrics } from "./listenerMetrics.ts";
import { cursorOf, GENESIS_PARENT_HASH, initialListenerState, type ListenerState } from "./listenerState.ts";
import {
  type ListenerStoreScope,
  loadListenerState,
  pruneStoredEvents,
  readStoredEvents,
  saveListenerState,
} from "./listenerStore.ts";
import { readNextRange } from "./readNextRange.ts";
import { type L1Reorg, rewindTo } from "./rewind.ts";

/** Most LockingPool sequencers a fresh listener reads at startBlock - 1 (one eth_call each). */
const MAX_START_SEQUENCERS = 10_000;

import type { L1Event, L1ListenerContracts } from "./types.ts";

export type L1BridgeListenerOptions = Partial<Omit<L1ClientOptions, "endpoints">> & {
  /** L1 JSON-RPC endpoints in order of preference (`http(s)://`, `ws(s)://`). */
  endpoints: readonly string[];
  l1ChainId: number;
  contracts: L1ListenerContracts;
  /** First L1 block to read (the deployment's `startBlock`). */
  startBlock: bigint;
  /** Blocks behind the head before a block is read (default 12; devnets use fewer). */
  confirmations?: number;
  /** Most blocks per eth_getLogs (default 2,000). */
  maxBlockRange?: bigint;
  /** Ranges read per poll before yielding (default 8). */
  maxRangesPerPoll?: number;
  /** Between polls when caught up (default 4 s). */
  pollIntervalMs?: number;
  /** Blocks below the cursor whose hashes are kept for walk-backs (default 256). */
  maxReorgDepth?: bigint;
  headerConcurrency?: number;
  /** Backoff after a failed poll: doubled per failure up to the max (defaults 500 ms, 30 s). */
  errorBackoffMs?: number;
  maxErrorBackoffMs?: number;
};

export const defaultL1BridgeListenerOptions = {
  ...defaultL1ClientOptions,
  confirmations: 12,
  maxBlockRange: 2_000n,
  maxRangesPerPoll: 8,
  pollIntervalMs: 4_000,
  maxReorgDepth: 256n,
  headerConcurrency: 16,
  errorBackoffMs: 500,
  maxErrorBackoffMs: 30_000,
} as const;

export type L1BridgeListenerModules = {
  /** The node passes a sublevel of its LevelDB (`createLevelKvStore`). */
  store: KvStore;
  logger?: Logger;
  metrics?: Metrics;
  /** An L1 client of its own (tests); by default one is made from `endpoints`. */
  client?: L1Client;
};

/** One fact per event; each payload is plain and cloneable. */
export type L1ListenerEvents = {
  /** A confirmed L1 event, in L1 order, after it is stored. */
  event: L1Event;
  /** The cursor moved: every event up to `number` has been emitted. */
  confirmed: { number: bigint; hash: `0x${string}`; events: number; head: bigint };
  /** Blocks whose events were emitted left the canonical chain (a reorg deeper than `confirmations`). */
  reorg: L1Reorg;
  /** The listener stopped: a broken invariant, a reorg deeper than it remembers, a bad stored state. */
  fatal: { code: string; message: string; details: Record<string, unknown> };
};

export type L1ListenerStatus = {
  running: boolean;
  halted: boolean;
  /** Highest block confirmed and read; undefined before the first poll loaded the state. */
  cursor: { number: bigint; hash: `0x${string}` } | undefined;
  head: bigint | undefined;
  nextSeq: number;
  consecutiveFailures: number;
};

type Resolved = Required<Omit<L1BridgeListenerOptions, "endpoints">> & { endpoints: readonly string[] };

/**
 * Polls the LockingPool, DepositBridge and BatchInbox up to `head - confirmations`, checks every
 * answer against the blocks it already read, stores its cursor and the confirmed events, and
 * emits them. An L1 that is down, slow or lying shows up as errors, metrics and backoff: the
 * poll loop never throws and never waits longer than one request timeout per endpoint.
 */
export class L1BridgeListener {
  readonly events: EventBus<L1ListenerEvents>;
  private readonly opts: Resolved;
  private readonly store: KvStore;
  private readonly log: Logger | undefined;
  private readonly metrics: ListenerMetrics;
  private readonly client: L1Client;
  private readonly ownsClient: boolean;
  private readonly scope: ListenerStoreScope;
  private state: ListenerState | undefined;
  private head: bigint | undefined;
  private running = false;
  private halted = false;
  private failures = 0;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private serial: Promise<unknown> = Promise.resolve();

  constructor(opts: L1BridgeListenerOptions, modules: L1BridgeListenerModules) {
    this.opts = { ...defaultL1BridgeListenerOptions, ...opts } as Resolved;
    if (this.opts.confirmations < 0 || !Number.isInteger(this.opts.confirmations)) {
      throw new L1ListenerError(
        L1ListenerErrorCode.InvalidOptions,
        "confirmations must be a non-negative integer",
      );
    }
    if (this.opts.maxBlockRange < 1n || this.opts.startBlock < 0n) {
      throw new L1ListenerError(
        L1ListenerErrorCode.InvalidOptions,
        "maxBlockRange >= 1 and startBlock >= 0 needed",
      );
    }
    if (!modules.store) throw new L1ListenerError(L1ListenerErrorCode.InvalidOptions, "a store is needed");
    this.store = modules.store;
    this.log = modules.logger;
    this.metrics = createListenerMetrics(modules.metrics);
    this.events = new EventBus<L1ListenerEvents>({ name: "l1-bridge-listener", logger: modules.logger });
    this.ownsClient = !modules.client;
    this.client =
      modules.client ??
      createL1Client(
        { ...this.opts, endpoints: this.opts.endpoints },
        { logger: modules.logger, onError: (kind) => this.metrics.errors.inc({ kind }) },
      );
    this.scope = { l1ChainId: this.opts.l1ChainId, contracts: this.opts.contracts };
  }

  /** Starts the poll loop; returns at once (a down L1 is retried by the loop, never awaited here). */
  start(): void {
    if (this.running || this.halted) return;
    this.running = true;
    this.abort = new AbortController();
    this.loop = this.runLoop();
  }

  /** Stops the loop, cancels requests in flight and closes the client it made. */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort(new L1ListenerError(L1ListenerErrorCode.NotStarted, "listener stopped"));
    if (this.timer) clearTimeout(this.timer);
    this.wake?.();
    await this.loop?.catch(() => {});
    this.loop = undefined;
    await this.serial.catch(() => {});
    if (this.ownsClient) await this.client.close();
  }

  status(): L1ListenerStatus {
    const c = this.state ? cursorOf(this.state) : undefined;
    return {
      running: this.running,
      halted: this.halted,
      cursor: c ? { number: c.number, hash: c.hash } : undefined,
      head: this.head,
      nextSeq: this.state?.nextSeq ?? 0,
      consecutiveFailures: this.failures,
    };
  }

  /** Stored confirmed events from `fromSeq` (a restarted node re-reads what it has not included yet). */
  readConfirmed(fromSeq: number, limit?: number): Promise<L1Event[]> {
    return readStoredEvents(this.store, fromSeq, limit);
  }

  /** Forgets stored events below `belowSeq`; returns how many. */
  pruneConfirmed(belowSeq: number): Promise<number> {
    return pruneStoredEvents(this.store, belowSeq);
  }

  /**
   * One poll: reads new confirmed ranges (at most `maxRangesPerPoll`), or checks that the cursor
   * is still canonical. Throws what went wrong (the loop counts it and backs off). Polls never
   * overlap: a second call waits for the first.
   */
  pollOnce(): Promise<{ events: number; reorg?: L1Reorg }> {
    const run = this.serial.then(() => this.poll());
    this.serial = run.catch(() => {});
    return run;
  }

  private async runLoop(): Promise<void> {
    while (this.running) {
      let delay = this.opts.pollIntervalMs;
      try {
        await this.pollOnce();
        this.failures = 0;
        const c = this.state ? cursorOf(this.state).number : -1n;
        // Still behind: poll again at once.
        if (this.head !== undefined && c < this.head - BigInt(this.opts.confirmations)) delay = 0;
      } catch (err) {
        if (!this.running) break;
        if (this.isFatal(err)) {
          this.haltWith(err as L1ListenerError);
          break;
        }
        this.failures++;
        delay = Math.min(this.opts.maxErrorBackoffMs, this.opts.errorBackoffMs * 2 ** (this.failures - 1));
        this.log?.warn("L1 poll failed", { failures: this.failures, retryInMs: delay, error: String(err) });
      }
      if (!this.running) break;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.timer = setTimeout(resolve, delay);
      });
    }
  }

  private isFatal(err: unknown): boolean {
    return (
      err instanceof L1ListenerError &&
      (err.code === L1ListenerErrorCode.InvariantBroken ||
        err.code === L1ListenerErrorCode.ReorgTooDeep ||
        err.code === L1ListenerErrorCode.BadStoredState)
    );
  }

  private haltWith(err: L1ListenerError): void {
    this.halted = true;
    this.running = false;
    this.metrics.errors.inc({
      kind: err.code === L1ListenerErrorCode.ReorgTooDeep ? L1ErrorKind.ReorgTooDeep : L1ErrorKind.Invariant,
    });
    this.log?.error("L1 listener halted", { code: err.code, error: err.message, details: err.details });
    this.events.emit("fatal", { code: err.code, message: err.message, details: err.details });
  }

  private async loadState(signal: AbortSignal): Promise<ListenerState> {
    if (this.state) return this.state;
    const stored = await loadListenerState(this.store, this.scope);
    if (stored) {
      this.state = stored;
      return stored;
    }
    const before = this.opts.startBlock - 1n;
    // The hash of the block before startBlock and the LockingPool's amounts as of that block
    // (sequencers locked before startBlock: their LockUpdates need the previous amount), from
    // one endpoint's view.
    const start =
      before < 0n
        ? { hash: GENESIS_PARENT_HASH, amounts: new Map<bigint, bigint>() }
        : await this.client.withEndpoint(
            "start block parent",
            async (ep) => {
              const h = await ep.header(before, signal);
              if (!h) {
                throw new L1ListenerError(
                  L1ListenerErrorCode.InconsistentData,
                  "L1 lacks the block before startBlock",
                  {
                    details: { number: before, endpoint: ep.url },
                  },
                );
              }
              const amounts = await ep.lockedAmountsAt(
                this.opts.contracts.lockingPool,
                before,
                MAX_START_SEQUENCERS,
                signal,
              );
              return { hash: h.hash, amounts };
            },
            signal,
          );
    const state = initialListenerState({ number: before, hash: start.hash }, start.amounts);
    await saveListenerState(this.store, this.scope, state, []);
    this.state = state;
    return state;
  }

  private async poll(): Promise<{ events: number; reorg?: L1Reorg }> {
    if (this.halted) throw new L1ListenerError(L1ListenerErrorCode.NotStarted, "listener halted");
    const signal = this.abort.signal;
    let state = await this.loadState(signal);
    const head = await this.client.withEndpoint("head", (ep) => ep.blockNumber(signal), signal);
    if (this.head !== undefined && head < this.head) {
      this.metrics.errors.inc({ kind: L1ErrorKind.HeadRegressed });
      this.log?.warn("L1 head went backwards", { head, previous: this.head });
    }
    this.head = head;
    this.metrics.head.set(Number(head));
    const target = head - BigInt(this.opts.confirmations);
    let emitted = 0;

    if (target <= cursorOf(state).number) {
      const cursor = cursorOf(state);
      this.metrics.lag.set(Number(head - cursor.number));
      if (cursor.number < 0n) return { events: 0 };
      const canonical = await this.client.withEndpoint(
        "cursor check",
        (ep) => ep.header(cursor.number, signal),
        signal,
      );
      if (canonical && canonical.hash !== cursor.hash) return this.walkBack(signal);
      return { events: 0 };
    }

    for (let i = 0; i < this.opts.maxRangesPerPoll; i++) {
      if (cursorOf(state).number >= target) break;
      const result = await readNextRange({ ...this.opts, client: this.client }, { state, target, signal });
      if (result.kind === "behind") break;
      if (result.kind === "parentMismatch") {
        const r = await this.walkBack(signal);
        return { events: emitted, ...(r.reorg ? { reorg: r.reorg } : {}) };
      }
      await saveListenerState(this.store, this.scope, result.state, result.events);
      state = result.state;
      this.state = state;
      for (const e of result.events) {
        this.metrics.events.inc({ type: e.type });
        this.events.emit("event", e);
      }
      emitted += result.events.length;
      const c = cursorOf(state);
      this.metrics.confirmed.set(Number(c.number));
      this.metrics.lag.set(Number(head - c.number));
      this.events.emit("confirmed", { number: c.number, hash: c.hash, events: result.events.length, head });
    }
    return { events: emitted };
  }

  /** The cursor left the canonical chain: find the newest remembered block that did not, rewind to it. */
  private async walkBack(signal: AbortSignal): Promise<{ events: number; reorg?: L1Reorg }> {
    const state = this.state as ListenerState;
    const ancestor = await findAncestor({ client: this.client }, state, signal);
    if (ancestor === undefined) {
      throw new L1ListenerError(
        L1ListenerErrorCode.ReorgTooDeep,
        "no remembered block is canonical any more",
        {
          details: { oldest: state.recent[0]?.number, cursor: cursorOf(state).number },
        },
      );
    }
    return this.rewind(state, ancestor);
  }

  private async rewind(state: ListenerState, ancestor: bigint): Promise<{ events: number; reorg?: L1Reorg }> {
    const { state: next, reorg } = rewindTo(state, ancestor);
    if (reorg.removed.length === 0) return { events: 0 };
    await saveListenerState(this.store, this.scope, next, [], reorg.forgotten);
    this.state = next;
    this.metrics.reorgs.inc();
    this.metrics.errors.inc({ kind: L1ErrorKind.Reorg });
    this.metrics.confirmed.set(Number(reorg.ancestor.number));
    this.log?.error("L1 reorg below confirmed blocks", {
      ancestor: reorg.ancestor.number,
      removed: reorg.removed.length,
      forgottenEvents: reorg.forgotten.toSeq - reorg.forgotten.fromSeq,
    });
    this.events.emit("reorg", reorg);
    return { events: 0, reorg };
  }
}
