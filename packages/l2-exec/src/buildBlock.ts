import { type Block, createBlock } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import { createTxFromRLP, type TypedTransaction } from "@ethereumjs/tx";
import { bytesToHex, type WithdrawalData } from "@ethereumjs/util";
import type { TxReceipt } from "@ethereumjs/vm";
import { blockOverheadBytes } from "./blockBytes.ts";
import { blockCommon, type ChainState, checkOpen, execEnv, rememberResult } from "./chainState.ts";
import type { PendingState } from "./chainTypes.ts";
import { L2ExecError, L2ExecErrorCode } from "./errors.ts";
import {
  type BlockTimings,
  type IncludedTx,
  processBlock,
  type SkippedTx,
  type TxSource,
} from "./execute.ts";
import { type L1Entry, l1EntriesToWithdrawals } from "./l1Entries.ts";
import type { Hex } from "./receipts.ts";

export type BuildBlockOptions = {
  /** Parent block (default: the latest head). Must be committed. */
  parent?: Block;
  /**
   * Candidate transactions in execution order (typed or serialized), or a source pulled one
   * transaction at a time until it says stop: a proposer can keep executing transactions
   * while they arrive and seal the block at its slot.
   */
  txs: readonly (TypedTransaction | Uint8Array)[] | BuildTxSource;
  timestamp: bigint;
  /** The proposer's fee recipient. */
  coinbase: Hex;
  /** L1-derived balance credits (deposits, rewards), carried as the block's withdrawals. */
  l1Entries?: readonly L1Entry[];
  /** Up to 32 bytes of consensus data (round, proposer, ...), encoded by the node. */
  extraData?: Uint8Array;
  /**
   * Byte cap of this block (default and upper bound: the chain's `maxBlockBytes`). A
   * transaction whose bytes do not fit what is left is skipped as `block_bytes` and the build
   * goes on with the next one, as for gas.
   */
  maxBlockBytes?: number;
};

/**
 * Pulled by `buildBlock` until it resolves to undefined; may wait for transactions to arrive.
 * `gasLeft` and `bytesLeft` are what the block can still take: a candidate over either is
 * skipped, so a source may as well offer something smaller.
 */
export type BuildTxSource = {
  next(gasLeft: bigint, bytesLeft: number): Promise<TypedTransaction | Uint8Array | undefined>;
  /** Told right after each transaction is included, with its receipt (ADR 0175). */
  included?(tx: IncludedTx): void;
  /** Told when a candidate is skipped (it will not be in the block). */
  skipped?(s: SkippedTx): void;
};

export type BuildResult = {
  block: Block;
  receipts: TxReceipt[];
  skipped: SkippedTx[];
  timings: BlockTimings;
  pending: PendingState;
};

export type BuildBlockContext = Pick<
  ChainState,
  | "closed"
  | "heads"
  | "common"
  | "commons"
  | "store"
  | "db"
  | "l2Policy"
  | "maxBlockBytes"
  | "metrics"
  | "pending"
  | "log"
>;

/**
 * Builds and seals a block on `parent`: runs `txs` in order until the gas limit, skips
 * invalid ones with a typed reason, credits `l1Entries`. Nothing is written; pass the
 * block to `commit` (the result is remembered for that).
 */
export async function buildBlock(ctx: BuildBlockContext, opts: BuildBlockOptions): Promise<BuildResult> {
  checkOpen(ctx);
  const parent = opts.parent ?? ctx.heads.latest;
  const number = parent.header.number + 1n;
  const common = blockCommon(ctx, number, opts.timestamp);
  const given = opts.txs;
  const txs: TypedTransaction[] | TxSource = isTxList(given)
    ? normalizeTxs(given, common)
    : {
        next: async (gasLeft, bytesLeft) => {
          const t = await given.next(gasLeft, bytesLeft);
          return t === undefined ? undefined : (normalizeTxs([t], common)[0] as TypedTransaction);
        },
        ...(given.included ? { included: (x: IncludedTx) => given.included?.(x) } : {}),
        ...(given.skipped ? { skipped: (x: SkippedTx) => given.skipped?.(x) } : {}),
      };
  const withdrawals: WithdrawalData[] | undefined = common.isActivatedEIP(4895)
    ? l1EntriesToWithdrawals(opts.l1Entries ?? [])
    : undefined;
  if (withdrawals === undefined && (opts.l1Entries?.length ?? 0) > 0) {
    throw new L2ExecError(L2ExecErrorCode.InvalidConfig, "l1Entries need withdrawals (Shanghai or later)");
  }
  const ph = parent.header;
  const header: Record<string, unknown> = {
    parentHash: parent.hash(),
    number,
    timestamp: opts.timestamp,
    coinbase: opts.coinbase,
    gasLimit: ph.gasLimit,
    extraData: opts.extraData ?? new Uint8Array(0),
    difficulty: 0n,
  };
  if (common.isActivatedEIP(1559))
    header.baseFeePerGas = ph.baseFeePerGas === undefined ? 1_000_000_000n : ph.calcNextBaseFee();
  if (common.isActivatedEIP(4844)) {
    header.excessBlobGas = ph.excessBlobGas === undefined ? 0n : ph.calcNextExcessBlobGas(common);
    header.blobGasUsed = 0n;
  }
  if (common.isActivatedEIP(4788)) header.parentBeaconBlockRoot = new Uint8Array(32);
  const draft = createBlock({ header, ...(withdrawals ? { withdrawals } : {}) }, { common });
  const maxBlockBytes = Math.min(opts.maxBlockBytes ?? ctx.maxBlockBytes, ctx.maxBlockBytes);
  if (blockOverheadBytes(draft) > maxBlockBytes) {
    throw new L2ExecError(L2ExecErrorCode.InvalidConfig, "header and l1Entries alone exceed maxBlockBytes", {
      details: { maxBlockBytes, overhead: blockOverheadBytes(draft) },
    });
  }
  const stop = ctx.metrics.build?.startTimer();
  const res = await processBlock(execEnv(ctx), ph, draft, txs, { kind: "build", maxBlockBytes });
  stop?.();
  for (const s of res.skipped) ctx.metrics.skipped?.inc({ reason: s.reason } as never);
  const hash = bytesToHex(res.block.hash());
  rememberResult(ctx, hash, res, bytesToHex(parent.hash()));
  ctx.log?.debug("block built", {
    number,
    txs: res.block.transactions.length,
    skipped: res.skipped.length,
    ms: Math.round(res.timings.totalMs),
  });
  return {
    block: res.block,
    receipts: res.receipts,
    skipped: res.skipped,
    timings: res.timings,
    pending: { block: res.block, overlay: res.overlay },
  };
}

function isTxList(
  txs: readonly (TypedTransaction | Uint8Array)[] | BuildTxSource,
): txs is readonly (TypedTransaction | Uint8Array)[] {
  return Array.isArray(txs);
}

function normalizeTxs(txs: readonly (TypedTransaction | Uint8Array)[], common: Common): TypedTransaction[] {
  return txs.map((t) => {
    if (t instanceof Uint8Array) return createTxFromRLP(t, { common });
    // Re-decode transactions made with another Common so they use this chain's crypto.
    if (t.common.customCrypto.ecrecover === common.customCrypto.ecrecover) return t;
    return createTxFromRLP(t.serialize(), { common });
  });
}
