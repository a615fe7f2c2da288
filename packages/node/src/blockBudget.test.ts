import { describe, expect, it } from "vitest";
import {
  type BlockBudgetOptions,
  createBlockBudget,
  MIN_BUDGET_TXS,
  slotBudgetMs,
  windowBudgetMs,
} from "./blockBudget.ts";

const opts: BlockBudgetOptions = {
  blockTimeMs: 2000,
  timeoutProposeMs: 1000,
  timeoutDeltaMs: 250,
  budgetShare: 0.5,
  maxTxsPerBlock: 5000,
};

describe("block budget (ADR 0165)", () => {
  it("a full block gets its share of the round's propose window, which grows with the round", () => {
    expect(windowBudgetMs(opts, 0)).toBe((1000 - 100) * 0.5);
    expect(windowBudgetMs(opts, 2)).toBe((1000 + 500 - 100) * 0.5);
    expect(slotBudgetMs(opts)).toBe(1000);
  });

  it("caps a full block by the measured cost: 1 ms of work per tx at a 450 ms budget is 450 txs", () => {
    const b = createBlockBudget(opts);
    for (let i = 0; i < 50; i++) b.observe({ txs: 1000, executeMs: 600, sealMs: 400 });
    const e = b.estimate();
    expect(e.executeMsPerTx).toBeCloseTo(0.6, 3);
    expect(e.sealMsPerTx).toBeCloseTo(0.4, 3);
    expect(b.maxTxs("full", 0)).toBe(Math.floor(450 / (e.executeMsPerTx + e.sealMsPerTx)));
    expect(Math.abs(b.maxTxs("full", 0) - 450)).toBeLessThanOrEqual(1);
    expect(b.maxTxs("full", 4)).toBeGreaterThan(b.maxTxs("full", 0));
  });

  it("a streamed block may take more (its execution is spread over the slot) but its roots must fit the window", () => {
    const b = createBlockBudget(opts);
    for (let i = 0; i < 50; i++) b.observe({ txs: 1000, executeMs: 100, sealMs: 900 });
    // Slot budget 1000 ms / 1.0 ms = 1000 txs; roots 0.9 ms/tx within 450 ms = 500 txs.
    expect(b.maxTxs("streamed", 0)).toBe(Math.floor(450 / b.estimate().sealMsPerTx));
    expect(b.maxTxs("streamed", 0)).toBeLessThan(1000 / 1.0);
  });

  it("a slower machine shrinks the block, a faster one grows it, within [64, maxTxsPerBlock]", () => {
    const b = createBlockBudget(opts);
    const before = b.maxTxs("full", 0);
    for (let i = 0; i < 30; i++) b.observe({ txs: 500, executeMs: 5000, sealMs: 5000 });
    expect(b.maxTxs("full", 0)).toBe(MIN_BUDGET_TXS);
    expect(MIN_BUDGET_TXS).toBeLessThan(before);
    for (let i = 0; i < 80; i++) b.observe({ txs: 500, executeMs: 1, sealMs: 1 });
    expect(b.maxTxs("full", 0)).toBe(opts.maxTxsPerBlock);
  });

  it("ignores small blocks and broken samples; a streamed build teaches only its roots", () => {
    const b = createBlockBudget(opts);
    const start = b.estimate();
    b.observe({ txs: 10, executeMs: 1e6, sealMs: 1e6 });
    b.observe({ txs: 100, executeMs: Number.NaN, sealMs: -1 });
    expect(b.estimate()).toEqual(start);
    for (let i = 0; i < 3; i++) b.observe({ txs: 100, executeMs: undefined, sealMs: 100 });
    expect(b.estimate().executeMsPerTx).toBe(start.executeMsPerTx);
    expect(b.estimate().sealMsPerTx).toBe(1);
  });

  it("one outlier never sets the cap (a cold first block), a lasting change does after three blocks", () => {
    const b = createBlockBudget(opts);
    const start = b.estimate();
    // The first block under load of a fresh devnet: 33 transfers, 93 ms of roots (2.8 ms/tx).
    b.observe({ txs: 33, executeMs: undefined, sealMs: 93 });
    expect(b.estimate()).toEqual(start);
    const steady = b.maxTxs("streamed", 0);
    // The steady cost, 0.076 ms/tx of roots: the cap grows at once, far past the outlier's 160.
    for (let i = 0; i < 2; i++) b.observe({ txs: 289, executeMs: undefined, sealMs: 22 });
    expect(b.estimate().sealMsPerTx).toBeCloseTo(22 / 289, 6);
    expect(b.maxTxs("streamed", 0)).toBeGreaterThan(steady);
    expect(b.maxTxs("streamed", 0)).toBeGreaterThan(900);

    const full = createBlockBudget(opts);
    full.observe({ txs: 900, executeMs: 2700, sealMs: 90 }); // one 3 ms/tx block: not yet
    expect(full.estimate().executeMsPerTx).toBe(start.executeMsPerTx);
    full.observe({ txs: 900, executeMs: 2700, sealMs: 90 }); // twice of three: the machine is slow
    expect(full.estimate().executeMsPerTx).toBe(3);
    expect(full.maxTxs("full", 1)).toBe(Math.floor(((1000 + 250 - 100) * 0.5) / (3 + 0.1)));
    for (let i = 0; i < 3; i++) full.observe({ txs: 900, executeMs: 2700, sealMs: 90 }); // five slow
    for (let i = 0; i < 2; i++) full.observe({ txs: 900, executeMs: 90, sealMs: 90 }); // 0.1 ms/tx
    expect(full.estimate().executeMsPerTx).toBe(3); // two fast of five: still the slow median
    full.observe({ txs: 900, executeMs: 90, sealMs: 90 });
    expect(full.estimate().executeMsPerTx).toBeCloseTo(0.1, 6); // three of five: it is fast again
  });
});
