/**
 * Polling filters (eth_newFilter, eth_newBlockFilter, eth_newPendingTransactionFilter). Block and
 * log filters remember the next block to look at and read the chain when polled, so a missed
 * event never loses a block; pending-transaction filters queue hashes from the txpool events.
 * A filter not polled for `filterTimeoutMs` is removed (geth: 5 minutes).
 */
import { randomBytes } from "node:crypto";
import { type Clock, type Hex, realClock } from "@dseq/common";
import type { Services } from "./context.ts";
import { RpcError, RpcErrorCode } from "./errors.ts";
import type { Json } from "./format.ts";
import { rangeLogs, resolveRange } from "./logs.ts";
import type { LogFilter } from "./params.ts";
import type { RpcEvents } from "./types.ts";

/** Most pending hashes one filter keeps between polls; older ones are dropped. */
const MAX_PENDING_QUEUE = 4096;

type LogsFilter = { kind: "logs"; criteria: LogFilter; next: bigint; lastPoll: number };
type BlocksFilter = { kind: "blocks"; next: bigint; lastPoll: number };
type PendingFilter = { kind: "pending"; hashes: Hex[]; lastPoll: number };
type Filter = LogsFilter | BlocksFilter | PendingFilter;

/** geth's rpc.NewID: 16 random bytes, hex, leading zeros trimmed. */
export function newId(): string {
  const hex = randomBytes(16).toString("hex").replace(/^0+/, "");
  return `0x${hex === "" ? "0" : hex}`;
}

function filterNotFound(): RpcError {
  return new RpcError(RpcErrorCode.Server, "filter not found");
}

export class FilterManager {
  private readonly filters = new Map<string, Filter>();
  private readonly svc: Services;
  private readonly clock: Clock;
  private readonly unsubscribe: (() => void) | undefined;
  private cancelSweep: (() => void) | undefined;

  constructor(svc: Services, modules: { events?: RpcEvents; clock?: Clock } = {}) {
    this.svc = svc;
    this.clock = modules.clock ?? realClock;
    this.unsubscribe = modules.events?.on("txpool.pending", ({ hashes }) => {
      for (const f of this.filters.values()) {
        if (f.kind !== "pending") continue;
        f.hashes.push(...hashes);
        if (f.hashes.length > MAX_PENDING_QUEUE) f.hashes.splice(0, f.hashes.length - MAX_PENDING_QUEUE);
      }
    });
    this.scheduleSweep();
  }

  get size(): number {
    return this.filters.size;
  }

  private scheduleSweep(): void {
    const every = Math.max(1000, Math.floor(this.svc.opts.filterTimeoutMs / 2));
    this.cancelSweep = this.clock.setTimeout(() => {
      this.sweep();
      this.scheduleSweep();
    }, every);
  }

  /** Removes filters idle longer than the timeout. */
  sweep(): void {
    const cutoff = this.clock.now() - this.svc.opts.filterTimeoutMs;
    for (const [id, f] of this.filters) if (f.lastPoll < cutoff) this.filters.delete(id);
  }

  private add(f: Filter): string {
    if (this.filters.size >= this.svc.opts.maxFilters) {
      throw new RpcError(RpcErrorCode.LimitExceeded, `too many filters (limit ${this.svc.opts.maxFilters})`);
    }
    const id = newId();
    this.filters.set(id, f);
    return id;
  }

  newLogFilter(criteria: LogFilter): string {
    if (criteria.blockHash !== undefined) {
      throw new RpcError(RpcErrorCode.InvalidParams, "blockHash is not supported by eth_newFilter");
    }
    const head = this.svc.chain.heads().latest;
    const from = criteria.fromBlock?.kind === "number" ? criteria.fromBlock.number : head + 1n;
    return this.add({
      kind: "logs",
      criteria,
      next: from > head + 1n ? from : head + 1n,
      lastPoll: this.clock.now(),
    });
  }

  newBlockFilter(): string {
    return this.add({ kind: "blocks", next: this.svc.chain.heads().latest + 1n, lastPoll: this.clock.now() });
  }

  newPendingTransactionFilter(): string {
    return this.add({ kind: "pending", hashes: [], lastPoll: this.clock.now() });
  }

  /** A live filter; one idle past the timeout is gone even if the sweep has not run yet. */
  private live(id: string): Filter | undefined {
    const f = this.filters.get(id);
    if (f !== undefined && f.lastPoll < this.clock.now() - this.svc.opts.filterTimeoutMs) {
      this.filters.delete(id);
      return undefined;
    }
    return f;
  }

  uninstall(id: string): boolean {
    return this.filters.delete(id);
  }

  /** eth_getFilterChanges: what arrived since the last poll. */
  async changes(id: string, signal?: AbortSignal): Promise<Json> {
    const f = this.live(id);
    if (f === undefined) throw filterNotFound();
    f.lastPoll = this.clock.now();
    if (f.kind === "pending") return f.hashes.splice(0, f.hashes.length);
    const head = this.svc.chain.heads().latest;
    const cap = BigInt(this.svc.opts.maxLogsBlockRange);
    if (f.kind === "blocks") {
      const out: Hex[] = [];
      let n = f.next;
      for (; n <= head && n < f.next + cap; n++) {
        const h = await this.svc.chain.getHeader(n);
        if (h === undefined) break;
        out.push(h.hash);
      }
      f.next = n;
      return out;
    }
    let to = head;
    const limit = f.criteria.toBlock;
    if (limit?.kind === "number" && limit.number < to) to = limit.number;
    if (to >= f.next + cap) to = f.next + cap - 1n;
    if (to < f.next) return [];
    const logs = await rangeLogs(this.svc, f.criteria, f.next, to, signal);
    f.next = to + 1n;
    return logs;
  }

  /** eth_getFilterLogs: every log the filter's criteria match (a full range query). */
  async logs(id: string, signal?: AbortSignal): Promise<Json> {
    const f = this.live(id);
    if (f === undefined || f.kind !== "logs") throw filterNotFound();
    f.lastPoll = this.clock.now();
    const { from, to } = resolveRange(this.svc, f.criteria);
    return rangeLogs(this.svc, f.criteria, from, to, signal);
  }

  close(): void {
    this.unsubscribe?.();
    this.cancelSweep?.();
    this.filters.clear();
  }
}
