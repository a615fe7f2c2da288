// The sustained rule's pool growth (ADR 0163): a pool that keeps up, sampled as the bench does,
// does not count as growing; a backlog does. The steady-state commit rate over whole blocks.
// Pure: no processes.
import { describe, expect, it } from "vitest";
import { isSustained, poolGrowth, steadyCommitRate } from "../bench/honestLoad.ts";

// [seconds, largest pool over the nodes] from `pnpm bench devnet`'s sampler on 4 validators that
// committed everything within 5 s (2026-12-03, 200 and 300 tx/s offered, 20 s).
const KEPT_UP_200 = [
  [0, 0],
  [1.1, 187],
  [1.8, 204],
  [3.2, 440],
  [3.9, 605],
  [4.6, 360],
  [5.3, 496],
  [6.5, 291],
  [7.2, 439],
  [8, 176],
  [8.6, 328],
  [9.2, 446],
  [10, 186],
  [10.9, 342],
  [11.7, 527],
  [12.4, 308],
  [13.2, 461],
  [13.8, 604],
  [14.8, 347],
  [15.6, 547],
  [16.5, 333],
  [17.2, 477],
  [18.2, 208],
  [18.9, 400],
  [20.1, 520],
];
const KEPT_UP_300 = [
  [0, 0],
  [0.7, 177],
  [1.3, 368],
  [2, 275],
  [2.6, 465],
  [3.5, 698],
  [4.6, 433],
  [5.3, 631],
  [6.8, 970],
  [7.6, 690],
  [9.3, 621],
  [11, 633],
  [11.7, 849],
  [12.6, 704],
  [13.4, 926],
  [14.1, 500],
  [14.8, 748],
  [15.9, 1003],
  [16.7, 604],
  [17.4, 842],
  [18.3, 342],
  [18.9, 542],
  [19.6, 713],
];
const samples = (xs: number[][]) =>
  xs.map(([t, size]) => ({ atMs: (t as number) * 1000, size: size as number }));

const report = (tps: number, growth: number) =>
  ({ tps, onTimeShare: 1, poolGrowth: growth }) as Parameters<typeof isSustained>[0];

describe("the pool growth of the sustained rule", () => {
  it("a chain that keeps up (its 2 s sawtooth) is not growing", () => {
    for (const [tps, xs] of [
      [200, KEPT_UP_200],
      [300, KEPT_UP_300],
    ] as const) {
      const g = poolGrowth(samples(xs as unknown as number[][]), 20_000);
      expect(Math.abs(g)).toBeLessThan(tps * 0.5);
      expect(isSustained(report(tps, g))).toBe(true);
    }
  });

  it("a backlog of 30 tx/s on top of the sawtooth is growing, and not sustained", () => {
    const grown = samples(KEPT_UP_200).map((p) => ({ ...p, size: p.size + (p.atMs / 1000) * 30 }));
    const g = poolGrowth(grown, 20_000);
    // 30 tx/s over half the 20 s window: 300 more, within the sawtooth's noise of it.
    expect(g).toBeGreaterThan(200);
    expect(g).toBeLessThan(400);
    expect(isSustained(report(200, g))).toBe(false);
  });

  it("the ramp from an empty pool (the first 4 s) does not count", () => {
    const flat = Array.from({ length: 40 }, (_, i) => ({ atMs: i * 500, size: i < 8 ? i * 50 : 400 }));
    expect(poolGrowth(flat, 20_000)).toBe(0);
  });
});

describe("steadyCommitRate", () => {
  // 1,000 tx/s offered, a block every 2 s holding what arrived in its slot, commits 1.3 s after
  // the slot: whole blocks between the pipeline's fill and the last send give the offered rate.
  const keptUp = Array.from({ length: 11 }, (_, i) => ({
    at: 1_300 + 2_000 * i,
    txs: i === 0 ? 700 : 2_000,
  }));

  it("a chain that keeps up commits at the offered rate", () => {
    const r = steadyCommitRate(keptUp, 5_000, 20_000);
    expect(r.windowMs).toBe(14_000); // blocks at 5.3 s ... 19.3 s
    expect(r.tps).toBe(1_000);
  });

  it("counts nothing committed after the last send, nor the first block's own transactions", () => {
    const withDrain = [...keptUp, { at: 21_300, txs: 50_000 }, { at: 23_300, txs: 50_000 }];
    expect(steadyCommitRate(withDrain, 5_000, 20_000).tps).toBe(1_000);
    const bigFirst = keptUp.map((b) => (b.at === 5_300 ? { ...b, txs: 50_000 } : b));
    expect(steadyCommitRate(bigFirst, 5_000, 20_000).tps).toBe(1_000);
  });

  it("a chain that falls behind shows its real rate, and an empty window shows zero", () => {
    const behind = keptUp.map((b) => ({ ...b, txs: 1_200 }));
    expect(steadyCommitRate(behind, 5_000, 20_000).tps).toBe(600);
    expect(steadyCommitRate(keptUp.slice(0, 3), 5_000, 20_000)).toEqual({ tps: 0, windowMs: 0 });
  });
});
