import { describe, expect, it } from "vitest";
import type { ConsensusInput } from "./consensusCore.ts";
import { NetworkQueue } from "./networkQueue.ts";

const timeout = (round: number): ConsensusInput =>
  ({ type: "timeout", height: 1, round, step: 1 }) as ConsensusInput;

describe("NetworkQueue", () => {
  it("is FIFO and drops the oldest input when full", () => {
    const q = new NetworkQueue(2);
    expect(q.push(timeout(0))).toBeUndefined();
    expect(q.push(timeout(1))).toBeUndefined();
    expect(q.push(timeout(2))).toEqual(timeout(0));
    expect(q.length).toBe(2);
    expect(q.shift()).toEqual(timeout(1));
    q.compact();
    expect(q.shift()).toEqual(timeout(2));
    expect(q.shift()).toBeUndefined();
    expect(q.length).toBe(0);
  });

  it("keeps order across compaction of a long run", () => {
    const q = new NetworkQueue(10_000);
    for (let i = 0; i < 3000; i++) q.push(timeout(i));
    const out: number[] = [];
    for (let i = 0; i < 2000; i++) out.push((q.shift() as { round: number }).round);
    for (let i = 3000; i < 3100; i++) q.push(timeout(i));
    while (q.length > 0) out.push((q.shift() as { round: number }).round);
    expect(out).toEqual(Array.from({ length: 3100 }, (_, i) => i));
  });
});
