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
    b.observe({ txs: 100, executeMs: undefined, sealMs: 100 });
    expect(b.estimate().executeMsPerTx).toBe(start.executeMsPerTx);
    expect(b.estimate().sealMsPerTx).toBeGreaterThan(start.sealMsPerTx);
  });

  it("the first measured block replaces the prior; a costlier block moves it fast, a cheaper one slowly", () => {
    const b = createBlockBudget(opts);
    b.observe({ txs: 900, executeMs: 810, sealMs: 90 }); // 1 ms/tx on a loaded machine
    expect(b.estimate()).toEqual({ executeMsPerTx: 0.9, sealMsPerTx: 0.1 });
    expect(b.maxTxs("full", 1)).toBe(Math.floor(((1000 + 250 - 100) * 0.5) / 1.0));
    b.observe({ txs: 900, executeMs: 2700, sealMs: 90 }); // 3 ms/tx: half the way at once
    expect(b.estimate().executeMsPerTx).toBeCloseTo(0.9 + 0.5 * 2.1, 6);
    const slow = b.estimate().executeMsPerTx;
    b.observe({ txs: 900, executeMs: 90, sealMs: 90 }); // 0.1 ms/tx: a tenth of the way
    expect(b.estimate().executeMsPerTx).toBeCloseTo(slow + 0.1 * (0.1 - slow), 6);
  });
});
