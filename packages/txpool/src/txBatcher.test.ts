import { FakeClock } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { TxBatcher } from "./txBatcher.ts";

const tx = (n: number, size = 100) => new Uint8Array(size).fill(n);

describe("TxBatcher", () => {
  it("sends a batch when full by count, by size, or after the delay", () => {
    const clock = new FakeClock(0);
    const sent: number[][] = [];
    const b = new TxBatcher({ maxTxs: 3, maxBytes: 250, maxDelayMs: 50 }, { clock }, (raws) => {
      sent.push(raws.map((r) => r[0] as number));
    });
    b.push(tx(1));
    b.push(tx(2));
    expect(sent).toEqual([]);
    b.push(tx(3)); // 300 bytes would exceed 250: [1, 2] goes first
    expect(sent).toEqual([[1, 2]]);
    clock.advance(49);
    expect(sent).toHaveLength(1);
    clock.advance(1);
    expect(sent).toEqual([[1, 2], [3]]);
    const small = new TxBatcher({ maxTxs: 2, maxDelayMs: 50 }, { clock }, (raws) => {
      sent.push(raws.map((r) => r[0] as number));
    });
    small.push(tx(4, 10));
    small.push(tx(5, 10));
    expect(sent.at(-1)).toEqual([4, 5]);
    small.push(tx(6, 10));
    small.stop();
    expect(sent.at(-1)).toEqual([6]);
    clock.advance(100);
    expect(sent).toHaveLength(4);
  });
});
