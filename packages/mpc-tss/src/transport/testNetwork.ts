import { seededRandom } from "@dseq/common";
import type { PartyId } from "../identity.ts";
import type { TransportMessage, TssTransport } from "./transport.ts";

/**
 * In-memory network for tests and benchmarks (a test transport, not for production): every
 * message between two distinct parties is dropped with probability `dropRate` and delayed by a
 * uniform `[minDelayMs, maxDelayMs]`, both drawn from a seeded PRNG so a failing run can be
 * replayed. Loopback sends are never dropped.
 */
export type TestNetworkOptions = {
  seed?: number;
  dropRate?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
};

export type TestNetworkStats = { sent: number; dropped: number; delivered: number };

export interface TestNetwork {
  join(id: PartyId): TssTransport;
  /** Messages to or from a disconnected party are lost (a crashed or partitioned node). */
  disconnect(id: PartyId): void;
  reconnect(id: PartyId): void;
  /** Observe (and optionally swallow, by returning false) every message before delivery. */
  intercept(fn: ((from: PartyId, to: PartyId, data: Uint8Array) => boolean | undefined) | undefined): void;
  readonly stats: TestNetworkStats;
  close(): void;
}

export function createTestNetwork(opts: TestNetworkOptions = {}): TestNetwork {
  const rand = seededRandom(opts.seed ?? 1);
  const dropRate = opts.dropRate ?? 0;
  const minDelay = opts.minDelayMs ?? 0;
  const maxDelay = Math.max(minDelay, opts.maxDelayMs ?? minDelay);
  const handlers = new Map<PartyId, Set<(m: TransportMessage) => void>>();
  const down = new Set<PartyId>();
  const timers = new Set<NodeJS.Timeout | NodeJS.Immediate>();
  const stats: TestNetworkStats = { sent: 0, dropped: 0, delivered: 0 };
  let interceptor: ((from: PartyId, to: PartyId, data: Uint8Array) => boolean | undefined) | undefined;
  let closed = false;

  function deliver(from: PartyId, to: PartyId, data: Uint8Array): void {
    if (closed) return;
    stats.sent++;
    if (interceptor && interceptor(from, to, data) === false) {
      stats.dropped++;
      return;
    }
    const loopback = from === to;
    if (!loopback && (down.has(from) || down.has(to) || rand() < dropRate)) {
      stats.dropped++;
      return;
    }
    const delay = loopback ? 0 : minDelay + (maxDelay - minDelay) * rand();
    const copy = data.slice();
    const run = (): void => {
      if (closed || (!loopback && down.has(to))) return;
      stats.delivered++;
      for (const h of handlers.get(to) ?? []) h({ from, data: copy });
    };
    if (delay <= 0) {
      const t = setImmediate(() => {
        timers.delete(t);
        run();
      });
      timers.add(t);
    } else {
      const t = setTimeout(() => {
        timers.delete(t);
        run();
      }, delay);
      timers.add(t);
    }
  }

  return {
    join(id) {
      if (!handlers.has(id)) handlers.set(id, new Set());
      return {
        self: id,
        broadcast(data) {
          for (const to of handlers.keys()) if (to !== id) deliver(id, to, data);
        },
        send(to, data) {
          deliver(id, to, data);
        },
        subscribe(handler) {
          const set = handlers.get(id) ?? new Set();
          handlers.set(id, set);
          set.add(handler);
          return () => set.delete(handler);
        },
      };
    },
    disconnect(id) {
      down.add(id);
    },
    reconnect(id) {
      down.delete(id);
    },
    intercept(fn) {
      interceptor = fn;
    },
    stats,
    close() {
      closed = true;
      for (const t of timers) {
        clearTimeout(t as NodeJS.Timeout);
        clearImmediate(t as NodeJS.Immediate);
      }
      timers.clear();
    },
  };
}

export { seededRandom };
