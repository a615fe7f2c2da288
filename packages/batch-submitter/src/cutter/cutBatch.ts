import { BatchError, BatchErrorCode } from "../errors.ts";

export type CutterOptions = {
  /** Cut when this many blocks wait (150 × 2 s = 5 min). */
  maxBlocks: number;
  /** Cut when the oldest waiting block is this old, seconds (5 min; ADR 0141). */
  maxAgeSeconds: number;
  /**
   * Cut before the raw transaction bytes of a batch pass this. Compression only shrinks, so a
   * batch under it fits five blobs (5 × 126,976 bytes) or a calldata batch under 640 kB.
   */
  maxRawBytes: number;
};

export const defaultCutterOptions: CutterOptions = {
  maxBlocks: 150,
  maxAgeSeconds: 300,
  maxRawBytes: 5 * 4096 * 31,
};

/** What the cutter needs of a waiting block. */
export type PendingBlock = { number: bigint; timestamp: bigint; rawBytes: number };

export type CutDecision =
  | { cut: false; reason: "empty" | "waiting" }
  | { cut: true; count: number; reason: "count" | "size" | "age" };

/**
 * Whether the blocks waiting after the inbox tip make a batch now, and how many go in it.
 * Pure: `now` is the caller's clock in seconds; block timestamps are L2 time.
 */
export function cutBatch(
  pending: readonly PendingBlock[],
  nowSeconds: bigint,
  o: CutterOptions = defaultCutterOptions,
): CutDecision {
  if (o.maxBlocks < 1 || o.maxRawBytes < 1 || o.maxAgeSeconds < 0) {
    throw new BatchError(BatchErrorCode.InvalidOptions, "cutter bounds must be positive", {
      details: { ...o },
    });
  }
  if (pending.length === 0) return { cut: false, reason: "empty" };
  let bytes = 0;
  for (let i = 0; i < pending.length; i++) {
    const b = pending[i]!;
    if (i > 0 && b.number !== pending[i - 1]!.number + 1n) {
      throw new BatchError(
        BatchErrorCode.BadBlocks,
        `pending block ${b.number} does not follow ${pending[i - 1]!.number}`,
      );
    }
    // A single block over the bound still goes, alone: it was committed and must land.
    if (i > 0 && bytes + b.rawBytes > o.maxRawBytes) return { cut: true, count: i, reason: "size" };
    bytes += b.rawBytes;
    if (i + 1 === o.maxBlocks) return { cut: true, count: i + 1, reason: "count" };
  }
  if (nowSeconds - pending[0]!.timestamp >= BigInt(o.maxAgeSeconds))
    return { cut: true, count: pending.length, reason: "age" };
  return { cut: false, reason: "waiting" };
}
