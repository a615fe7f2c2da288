import { describe, expect, it } from "vitest";
import { submitterTurn } from "./submitterTurn.ts";

const tip = (i: bigint) => ({ batchIndex: i, batchHash: "0x00" as const, lastBlock: i * 10n });

describe("submitterTurn", () => {
  const submitters = ["0xA", "0xB", "0xC"];
  it("gives batch i to submitters[i mod n] at once and the next ones after their delay", () => {
    let t = 0;
    const turn = (self: string) =>
      submitterTurn({ submitters: () => submitters, self, takeoverMs: 1000, now: () => t });
    const [a, b, c] = [turn("0xa"), turn("0xB"), turn("0xC")];
    // Next batch is 1: B (index 1) first, C after 1 s, A after 2 s.
    expect([a(tip(0n)), b(tip(0n)), c(tip(0n))]).toEqual([false, true, false]);
    t = 999;
    expect([a(tip(0n)), c(tip(0n))]).toEqual([false, false]);
    t = 1000;
    expect([a(tip(0n)), c(tip(0n))]).toEqual([false, true]);
    t = 2000;
    expect(a(tip(0n))).toBe(true);
    // The tip moved to 1: batch 2 is C's; A waits one slot, counted from when it saw the move.
    t = 5000;
    expect([a(tip(1n)), b(tip(1n)), c(tip(1n))]).toEqual([false, false, true]);
    t = 6000;
    expect(a(tip(1n))).toBe(true);
  });
  it("never lets a node outside the list cut", () => {
    const turn = submitterTurn({ submitters: () => submitters, self: "0xD", takeoverMs: 0, now: () => 1e9 });
    expect(turn(tip(0n))).toBe(false);
  });
});
