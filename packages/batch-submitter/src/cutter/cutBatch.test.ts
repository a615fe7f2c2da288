import { describe, expect, it } from "vitest";
import { BatchErrorCode } from "../errors.ts";
import { cutBatch, defaultCutterOptions, type PendingBlock } from "./cutBatch.ts";

const T0 = 1_700_000_000n;
const blocks = (n: number, bytes = 100, first = 1n): PendingBlock[] =>
  Array.from({ length: n }, (_, i) => ({
    number: first + BigInt(i),
    timestamp: T0 + 2n * BigInt(i),
    rawBytes: bytes,
  }));
const o = { maxBlocks: 10, maxAgeSeconds: 60, maxRawBytes: 1000 };

describe("cutBatch", () => {
  it("waits while under every bound, and says so", () => {
    expect(cutBatch([], T0, o)).toEqual({ cut: false, reason: "empty" });
    expect(cutBatch(blocks(5, 100), T0 + 59n, o)).toEqual({ cut: false, reason: "waiting" });
  });

  it("cuts by count at maxBlocks, leaving the rest for the next batch", () => {
    expect(cutBatch(blocks(25, 10), T0, o)).toEqual({ cut: true, count: 10, reason: "count" });
  });

  it("cuts by size before the block that would pass maxRawBytes; a lone oversized block goes alone", () => {
    expect(cutBatch(blocks(8, 300), T0, o)).toEqual({ cut: true, count: 3, reason: "size" });
    expect(cutBatch(blocks(3, 5000), T0, o)).toEqual({ cut: true, count: 1, reason: "size" });
  });

  it("cuts everything waiting by age of the oldest block", () => {
    expect(cutBatch(blocks(4, 10), T0 + 60n, o)).toEqual({ cut: true, count: 4, reason: "age" });
  });

  it("defaults suit 2 s blocks: a batch every 5 minutes, at most 150 blocks", () => {
    const d = defaultCutterOptions;
    expect(cutBatch(blocks(149, 10), T0 + 297n, d).cut).toBe(false);
    expect(cutBatch(blocks(150, 10), T0 + 10n, d)).toEqual({ cut: true, count: 150, reason: "count" });
    expect(cutBatch(blocks(20, 10), T0 + 300n, d)).toEqual({ cut: true, count: 20, reason: "age" });
  });

  it("refuses a gap and bad options", () => {
    const gap = [...blocks(2), { number: 9n, timestamp: T0, rawBytes: 1 }];
    expect(() => cutBatch(gap, T0, o)).toThrow(expect.objectContaining({ code: BatchErrorCode.BadBlocks }));
    expect(() => cutBatch(blocks(1), T0, { ...o, maxBlocks: 0 })).toThrow(
      expect.objectContaining({ code: BatchErrorCode.InvalidOptions }),
    );
  });
});
