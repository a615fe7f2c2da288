import type { Block } from "@ethereumjs/block";
import type { TypedTransaction } from "@ethereumjs/tx";
import { bytesToHex } from "@ethereumjs/util";
import type { TxReceipt } from "@ethereumjs/vm";
import { type BlockByHashContext, decodeBlock, getBlockByHash } from "./blockReads.ts";
import { type ChainState, checkOpen, execEnv, rememberResult } from "./chainState.ts";
import type { PendingState } from "./chainTypes.ts";
import { L2ExecError, L2ExecErrorCode } from "./errors.ts";
import { type BlockTimings, compareHeader, type HeaderDifference, processBlock } from "./execute.ts";
import { OverlayDB } from "./nodeStore.ts";
import type { Hex } from "./receipts.ts";

export type ExecuteResult = {
  /** True when the block is exactly what re-execution produced. */
  valid: boolean;
  block: Block;
  receipts: TxReceipt[];
  differences: HeaderDifference[];
  invalidTx?: { index: number; hash: Hex; message: string };
  timings: BlockTimings;
  pending: PendingState;
};

export type ExecuteBlockContext = BlockByHashContext &
  Pick<ChainState, "closed" | "store" | "l2Policy" | "maxBlockBytes" | "metrics" | "pending">;

/**
 * Re-executes a proposed block on its parent's state and reports every difference (header
 * fields, the first invalid transaction). The canonical state is untouched until `commit`.
 */
export async function executeBlock(
  ctx: ExecuteBlockContext,
  input: Block | Uint8Array,
): Promise<ExecuteResult> {
  checkOpen(ctx);
  const block = input instanceof Uint8Array ? decodeBlock(ctx, input) : input;
  const header = block.header;
  const parent = await getBlockByHash(ctx, header.parentHash);
  const stop = ctx.metrics.execute?.startTimer();
  if (parent === undefined) {
    throw new L2ExecError(L2ExecErrorCode.UnknownBlock, "parent block is not committed", {
      details: { parentHash: bytesToHex(header.parentHash), number: header.number },
    });
  }
  const ph = parent.header;
  const differences: HeaderDifference[] = [];
  const expect = (field: string, expected: bigint | undefined, actual: bigint | undefined) => {
    if (expected !== actual) differences.push({ field, expected: String(expected), actual: String(actual) });
  };
  expect("number", ph.number + 1n, header.number);
  if (header.timestamp <= ph.timestamp)
    differences.push({ field: "timestamp", expected: `> ${ph.timestamp}`, actual: String(header.timestamp) });
  if (ph.baseFeePerGas !== undefined && header.baseFeePerGas !== undefined)
    expect("baseFeePerGas", ph.calcNextBaseFee(), header.baseFeePerGas);
  if (ctx.l2Policy) expect("gasLimit", ph.gasLimit, header.gasLimit);
  if (ph.excessBlobGas !== undefined && header.excessBlobGas !== undefined) {
    expect("excessBlobGas", ph.calcNextExcessBlobGas(block.common), header.excessBlobGas);
  }
  // Checked before execution: an oversized proposal costs a serialization, not a block's run.
  const size = input instanceof Uint8Array ? input.length : block.serialize().length;
  if (size > ctx.maxBlockBytes) {
    stop?.();
    differences.push({ field: "blockBytes", expected: `<= ${ctx.maxBlockBytes}`, actual: String(size) });
    const zero = { recoverMs: 0, executeMs: 0, stateRootMs: 0, triesMs: 0 };
    return {
      valid: false,
      block,
      receipts: [],
      differences,
      timings: { ...zero, totalMs: 0, cpu: zero },
      pending: { block, overlay: new OverlayDB(ctx.store) },
    };
  }
  let txs = block.transactions as TypedTransaction[];
  if (ctx.l2Policy) {
    const blobIndex = txs.findIndex((t) => t.type === 3);
    if (blobIndex >= 0) txs = txs.slice(0, blobIndex);
  }
  const res = await processBlock(execEnv(ctx), ph, block, txs, { kind: "execute", expected: block });
  stop?.();
  let invalidTx = res.invalidTx;
  if (invalidTx === undefined && txs.length < block.transactions.length) {
    const t = block.transactions[txs.length] as TypedTransaction;
    invalidTx = {
      index: txs.length,
      hash: bytesToHex(t.hash()),
      message: "blob transactions (type 3) are not accepted on this L2",
    };
  }
  if (invalidTx === undefined) differences.push(...compareHeader(block, res.computed));
  const valid = invalidTx === undefined && differences.length === 0;
  if (valid) rememberResult(ctx, bytesToHex(block.hash()), res, bytesToHex(parent.hash()));
  return {
    valid,
    block,
    receipts: res.receipts,
    differences,
    ...(invalidTx !== undefined ? { invalidTx } : {}),
    timings: res.timings,
    pending: { block, overlay: res.overlay },
  };
}
