import type { EventBus, Logger, Metrics } from "@dseq/common";
import type { Block } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import type { ChainEvents } from "./chainTypes.ts";
import { L2ExecError, L2ExecErrorCode } from "./errors.ts";
import type { ExecEnv, ProcessResult } from "./execute.ts";
import type { ChainLevel, NodeStore } from "./nodeStore.ts";
import type { Hex } from "./receipts.ts";
import type { StateView } from "./stateView.ts";
import { canonicalKey, type HeadName } from "./store.ts";

/**
 * Everything a `Chain` holds, as one plain object its operations read (each operation types its
 * `ctx` as the `Pick` of what it uses). Only the operations in this package see it.
 */
export type ChainState = {
  readonly common: Common;
  readonly db: ChainLevel;
  readonly store: NodeStore;
  /** dseq L2 rules (type-3 rejected) apply to blocks this chain builds and executes. */
  readonly l2Policy: boolean;
  /** Consensus cap on `block.serialize()`, bytes. */
  readonly maxBlockBytes: number;
  /** fsync each commit batch (the bench flips it between blocks of one chain). */
  syncWrites: boolean;
  readonly log: Logger | undefined;
  readonly events: EventBus<ChainEvents>;
  readonly metrics: ChainMetrics;
  readonly heads: Record<HeadName, Block>;
  /** Built or executed blocks not committed yet, by hash: `commit` reuses their result. */
  readonly pending: Map<Hex, PendingEntry>;
  readonly blockCache: Map<Hex, Block>;
  /** One Common per hardfork (see `blockCommon`). */
  readonly commons: Map<string, Common>;
  /** The state view of the latest head that plain reads share (see `stateAt`). */
  headView: { hash: Hex; view: StateView } | undefined;
  /** Tail of the queue that serializes writes (commit, head moves). */
  writeLock: Promise<unknown>;
  closed: boolean;
};

export type PendingEntry = { result: ProcessResult; parentHash: Hex };

/** The chain's metrics; all absent without a `Metrics` registry. */
export type ChainMetrics = {
  build?: ReturnType<Metrics["histogram"]>;
  execute?: ReturnType<Metrics["histogram"]>;
  commit?: ReturnType<Metrics["histogram"]>;
  head?: ReturnType<Metrics["gauge"]>;
  txs?: ReturnType<Metrics["counter"]>;
  skipped?: ReturnType<Metrics["counter"]>;
};

export function createChainMetrics(registry: Metrics | undefined): ChainMetrics {
  if (registry === undefined) return {};
  return {
    build: registry.histogram({ name: "dseq_exec_build_seconds", help: "time to build a block" }),
    execute: registry.histogram({
      name: "dseq_exec_execute_seconds",
      help: "time to re-execute a proposed block",
    }),
    commit: registry.histogram({ name: "dseq_exec_commit_seconds", help: "time to write a committed block" }),
    head: registry.gauge({ name: "dseq_exec_head_number", help: "latest committed block number" }),
    txs: registry.counter({
      name: "dseq_exec_committed_txs_total",
      help: "transactions in committed blocks",
    }),
    skipped: registry.counter<"reason">({
      name: "dseq_exec_skipped_txs_total",
      help: "transactions left out of built blocks",
      labelNames: ["reason"],
    }) as ReturnType<Metrics["counter"]>,
  };
}

export function checkOpen(ctx: Pick<ChainState, "closed">): void {
  if (ctx.closed) throw new L2ExecError(L2ExecErrorCode.Closed, "chain is closed");
}

/** Runs `fn` after every write queued before it (a failed one does not block the queue). */
export function serial<T>(ctx: Pick<ChainState, "writeLock">, fn: () => Promise<T>): Promise<T> {
  const run = ctx.writeLock.then(fn, fn);
  ctx.writeLock = run.catch(() => undefined);
  return run;
}

/** One Common per hardfork, made once: copying and re-parametrising a Common is costly. */
export function blockCommon(
  ctx: Pick<ChainState, "common" | "commons">,
  number: bigint,
  timestamp: bigint,
): Common {
  const hf = ctx.common.getHardforkBy({ blockNumber: number, timestamp });
  let c = ctx.commons.get(hf);
  if (c === undefined) {
    c = ctx.common.copy();
    c.setHardfork(hf);
    ctx.commons.set(hf, c);
  }
  return c;
}

/** What `processBlock` needs from this chain. */
export function execEnv(ctx: Pick<ChainState, "common" | "store" | "l2Policy" | "db">): ExecEnv {
  return {
    common: ctx.common,
    store: ctx.store,
    l2Policy: ctx.l2Policy,
    blockHash: async (n) => {
      const v = await ctx.db.get(canonicalKey(n));
      return v;
    },
  };
}

/** Keeps a built or executed result for `commit`. */
export function rememberResult(
  ctx: Pick<ChainState, "pending">,
  hash: Hex,
  result: ProcessResult,
  parentHash: Hex,
): void {
  ctx.pending.set(hash, { result, parentHash });
  // Keep a handful: proposals of the current height and its rounds.
  if (ctx.pending.size > 16) {
    const first = ctx.pending.keys().next().value as Hex;
    ctx.pending.delete(first);
  }
}

export function cacheBlock(ctx: Pick<ChainState, "blockCache">, hash: Hex, block: Block): void {
  if (ctx.blockCache.size > 256) ctx.blockCache.delete(ctx.blockCache.keys().next().value as Hex);
  ctx.blockCache.set(hash, block);
}
