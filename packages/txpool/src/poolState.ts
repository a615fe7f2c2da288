import {
  type Clock,
  createNoopLogger,
  EventBus,
  type Hex,
  type Logger,
  type Metrics,
  realClock,
} from "@dseq/common";
import type { Common } from "@ethereumjs/common";
import type { AccountTxs, PoolEntry } from "./accountTxs.ts";
import { EvictionIndex } from "./evictionIndex.ts";
import { TxJournal } from "./journal.ts";
import type { TxPoolOptions } from "./options.ts";
import { createPoolCommon } from "./poolCommon.ts";
import { createPoolMetrics, type PoolMetrics } from "./poolMetrics.ts";
import type { AccountState, Address, PoolHead, RemovalReason, StateReader, TxPoolEvents } from "./types.ts";

/**
 * Everything a `TxPool` holds, as one plain object its operations read (each operation types
 * its `ctx` as the `Pick` of what it uses). The helpers below are the only writers of the
 * indexes and counters, so `all`, `accounts`, `authCount` and the counts stay consistent.
 * Only this package sees it.
 */
export type PoolState = {
  readonly opts: TxPoolOptions;
  /** Account state of the head (`TxPoolModules.state`). */
  readonly reader: StateReader;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: PoolMetrics | undefined;
  readonly events: EventBus<TxPoolEvents>;
  readonly common: Common;
  readonly journal: TxJournal | undefined;
  /** Every pooled transaction by hash. */
  readonly all: Map<Hex, PoolEntry>;
  readonly accounts: Map<Address, AccountTxs>;
  /** How many pooled EIP-7702 transactions carry an authorization of each account. */
  readonly authCount: Map<Address, number>;
  readonly eviction: EvictionIndex;
  head: PoolHead | undefined;
  pendingCount: number;
  queuedCount: number;
  /** Arrival counter (eviction ties go to the latest arrival). */
  seq: number;
  /** Tail of the queue that runs mutations one at a time. */
  tail: Promise<unknown>;
};

/** An empty pool's state; `opts` are complete and checked (the `TxPool` constructor does both). */
export function createPoolState(
  opts: TxPoolOptions,
  modules: { state: StateReader; logger?: Logger; metrics?: Metrics; clock?: Clock },
): PoolState {
  const log = modules.logger ?? createNoopLogger();
  const all = new Map<Hex, PoolEntry>();
  return {
    opts,
    reader: modules.state,
    log,
    clock: modules.clock ?? realClock,
    metrics: modules.metrics ? createPoolMetrics(modules.metrics) : undefined,
    events: new EventBus<TxPoolEvents>({ name: "txpool", logger: log }),
    common: createPoolCommon(opts.chainId),
    journal: opts.journalPath ? new TxJournal(opts.journalPath) : undefined,
    all,
    accounts: new Map(),
    authCount: new Map(),
    eviction: new EvictionIndex((e) => all.get(e.hash) === e),
    head: undefined,
    pendingCount: 0,
    queuedCount: 0,
    seq: 0,
    tail: Promise.resolve(),
  };
}

/** Runs `fn` after every mutation queued before it (a failed one does not block the queue). */
export function serial<T>(ctx: Pick<PoolState, "tail">, fn: () => Promise<T>): Promise<T> {
  const run = ctx.tail.then(fn, fn);
  ctx.tail = run.catch(() => undefined);
  return run;
}

export type RemoveContext = Pick<
  PoolState,
  "all" | "accounts" | "authCount" | "pendingCount" | "queuedCount" | "metrics" | "events"
>;

/** Removes one entry; the caller reclassifies the account afterwards. */
export function removeEntry(
  ctx: RemoveContext,
  account: AccountTxs,
  e: PoolEntry,
  reason: RemovalReason,
  announce = true,
): void {
  account.txs.delete(e.nonce);
  ctx.all.delete(e.hash);
  for (const a of e.authorities) {
    const n = (ctx.authCount.get(a) ?? 0) - 1;
    if (n > 0) ctx.authCount.set(a, n);
    else ctx.authCount.delete(a);
  }
  if (e.pending) ctx.pendingCount--;
  else ctx.queuedCount--;
  if (account.txs.size === 0) ctx.accounts.delete(account.address);
  if (!announce) return;
  ctx.metrics?.removed.inc({ reason });
  ctx.events.emit("txpool.removed", { hash: e.hash, from: e.from, nonce: e.nonce, reason });
}

export type ReclassifyContext = Pick<
  PoolState,
  "eviction" | "pendingCount" | "queuedCount" | "metrics" | "log"
>;

/** Re-derives which of the account's transactions are pending and moves the counts with it. */
export function reclassifyAccount(ctx: ReclassifyContext, account: AccountTxs): void {
  const { promoted, demoted } = account.reclassify();
  ctx.eviction.track(account);
  ctx.pendingCount += promoted - demoted;
  ctx.queuedCount += demoted - promoted;
  if (demoted > 0) {
    ctx.metrics?.demoted.inc(undefined, demoted);
    ctx.log.debug("txpool demoted", { from: account.address, demoted });
  }
}

/** Takes back a transaction that was inserted but then refused (no events were sent for it). */
export function unwindEntry(
  ctx: RemoveContext & ReclassifyContext,
  account: AccountTxs,
  entry: PoolEntry,
): void {
  removeEntry(ctx, account, entry, "evicted", false);
  reclassifyAccount(ctx, account);
}

/** Rewrites the journal with the local transactions still pooled. */
export function rotateJournal(ctx: Pick<PoolState, "journal" | "accounts">): void {
  if (!ctx.journal) return;
  const locals: Uint8Array[] = [];
  for (const account of ctx.accounts.values()) {
    for (const e of account.sorted()) if (e.local) locals.push(e.raw);
  }
  ctx.journal.rotate(locals);
}

export function updateGauges(ctx: Pick<PoolState, "metrics" | "pendingCount" | "queuedCount">): void {
  ctx.metrics?.pending.set(ctx.pendingCount);
  ctx.metrics?.queued.set(ctx.queuedCount);
}

/** Reads several accounts, concurrently when the reader is asynchronous. */
export async function readAccounts(
  ctx: Pick<PoolState, "reader">,
  addresses: readonly Address[],
): Promise<Map<Address, AccountState>> {
  const out = new Map<Address, AccountState>();
  const waiting: Promise<void>[] = [];
  for (const address of new Set(addresses)) {
    const r = ctx.reader.getAccount(address);
    if (r instanceof Promise) {
      waiting.push(
        r.then((st) => {
          out.set(address, st);
        }),
      );
    } else out.set(address, r);
  }
  if (waiting.length > 0) await Promise.all(waiting);
  return out;
}
