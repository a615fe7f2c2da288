import { FakeClock } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { GossipBatcher } from "./batcher.ts";
import { decodeBatch } from "./wire.ts";

describe("GossipBatcher", () => {
  it("flushes on delay, on count and on size, never losing an item", () => {
    const clock = new FakeClock(0);
    const out: Uint8Array[][] = [];
    const b = new GossipBatcher(
      { maxBatchBytes: 1_000, maxBatchItems: 4, maxDelayMs: 50 },
      (batch) => out.push(decodeBatch(batch, 100)),
      clock,
    );
    const timed = new GossipBatcher(
      { maxBatchBytes: 1_000, maxBatchItems: 4, maxDelayMs: 50 },
      (batch) => out.push(decodeBatch(batch, 100)),
      clock,
    );
    timed.add(Uint8Array.of(1));
    timed.add(Uint8Array.of(2));
    expect(out.length).toBe(0);
    clock.advance(50);
    expect(out.map((x) => x.length)).toEqual([2]);

    for (let i = 0; i < 5; i++) b.add(Uint8Array.of(i));
    expect(out.map((x) => x.length)).toEqual([2, 4]);
    b.flush();
    expect(out.map((x) => x.length)).toEqual([2, 4, 1]);

    for (let i = 0; i < 5; i++) b.add(new Uint8Array(300).fill(i));
    b.flush();
    const sizes = out.slice(3).map((x) => x.length);
    expect(sizes.reduce((a, c) => a + c, 0)).toBe(5);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
  });
});
