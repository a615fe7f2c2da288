import { describe, expect, it } from "vitest";
import {
  applyStakeChange,
  createRotationParams,
  createRotationSchedule,
  createStakeRegistry,
  type RotationParams,
  type StakeChange,
  type StakeRecord,
  validatorSetFromStake,
} from "../src/index.ts";
import { commitNext, GENESIS_HASH, lockChange, record, TOKEN } from "./chain.ts";
import { simulateRewards } from "./rewardModel.ts";

const GENESIS: StakeRecord[] = [
  record(1, 20_000n),
  record(2, 45_000n),
  record(3, 100_000n),
  record(4, 250_000n),
];

/** Capped stake of each span's set from a change list, computed without the schedule. */
function stakeBySpan(
  params: RotationParams,
  changes: ReadonlyMap<number, readonly StakeChange[]>,
): (span: number) => bigint {
  const heights = [...changes.keys()].sort((a, b) => a - b);
  const cache = new Map<number, bigint>();
  return (span) => {
    const hit = cache.get(span);
    if (hit !== undefined) return hit;
    let reg = createStakeRegistry(GENESIS);
    // A change committed at height h is in force from the span after the one holding h.
    for (const h of heights) {
      if (h > span * params.spanLength) break;
      for (const c of changes.get(h)!) reg = applyStakeChange(reg, c);
    }
    const stake = validatorSetFromStake(reg, params).totalCappedStake;
    cache.set(span, stake);
    return stake;
  };
}

/** A changing set: joins, top-ups, a withdrawal, an exit, a stake far above the cap. */
function changeSchedule(scale: number): Map<number, StakeChange[]> {
  return new Map<number, StakeChange[]>([
    [3 * scale + 7, [lockChange(5, 60_000n)]],
    [5 * scale + 1, [{ kind: "increase", id: 1, amount: 30_000n * TOKEN }]],
    [8 * scale + 3, [{ kind: "unlockStart", id: 2 }, lockChange(6, 400_000n)]],
    [11 * scale, [{ kind: "withdraw", id: 5, amount: 35_000n * TOKEN }]],
    [
      13 * scale + 2,
      [
        { kind: "unlockComplete", id: 2 },
        { kind: "increase", id: 3, amount: 1n * TOKEN },
      ],
    ],
  ]);
}

describe("rewards", () => {
  it("per block: the schedule credits exactly the documented rule on a changing set", () => {
    const params = createRotationParams({
      spanLength: 50,
      rewardPeriodBlocks: 1_000,
      checkpointIntervalBlocks: 700,
    });
    const blocks = 6_000;
    const changes = changeSchedule(400);
    // Irregular block times: mostly 2 s, some rounds lost, a slow stretch.
    const timestampOf = (h: number) =>
      h * 2 + Math.floor(h / 7) + (h > 3_000 ? Math.floor((h - 3_000) / 2) : 0);
    const model = simulateRewards({ params, blocks, stakeOfSpan: stakeBySpan(params, changes), timestampOf });
    const rpbAt = (h: number) =>
      model.segments.find((s) => s.fromHeight <= h && h <= s.toHeight)!.rewardPerBlock;

    const s = createRotationSchedule({
      params,
      genesis: { records: GENESIS, hash: GENESIS_HASH, timestamp: 0 },
    });
    const byId = new Map<number, bigint>();
    let checkpointed = 0n;
    let lastCumulative = new Map<number, bigint>();
    for (let h = 1; h <= blocks; h++) {
      const stakeChanges = changes.get(h);
      const { outcome } = commitNext(s, {
        timestamp: timestampOf(h),
        offline: (_p, height, round) => round === 0 && height % 11 === 0,
        ...(stakeChanges ? { stakeChanges } : {}),
      });
      expect(outcome.reward.amount).toBe(rpbAt(h));
      byId.set(outcome.reward.id, (byId.get(outcome.reward.id) ?? 0n) + outcome.reward.amount);
      if (outcome.checkpoint) {
        const cp = outcome.checkpoint;
        expect(cp.toHeight).toBe(h);
        expect(cp.total).toBe(cp.entries.reduce((a, e) => a + e.amount, 0n));
        for (const e of cp.entries) {
          expect(e.cumulative).toBe((lastCumulative.get(e.id) ?? 0n) + e.amount);
        }
        lastCumulative = new Map([
          ...lastCumulative,
          ...cp.entries.map((e) => [e.id, e.cumulative] as const),
        ]);
        checkpointed += cp.total;
      }
    }
    // The slow stretch was observed: later periods pay more per block than the first.
    expect(model.segments.at(-1)!.rewardPerBlock).toBeGreaterThan(model.segments[0]!.rewardPerBlock);
    expect(s.totalRewardsPaid()).toBe(model.paid);
    for (const [id, amount] of byId) expect(s.rewardsOf(id).earned).toBe(amount);
    const pending = [...byId.keys()].reduce((a, id) => a + s.rewardsOf(id).accrued, 0n);
    expect(checkpointed + pending).toBe(model.paid);
    expect(byId.has(6)).toBe(true); // the newcomer earned
    expect(s.rewardsOf(2).accrued + s.rewardsOf(2).earned).toBeGreaterThan(0n); // the leaver had earned
  });

  it("a year of 2 s blocks on a changing set pays 20% of capped stake, within 1 wei per block", () => {
    const params = createRotationParams(); // 14-day periods, 150-block spans
    const blocks = params.secondsPerYear / 2; // 15,768,000
    const changes = changeSchedule(params.rewardPeriodBlocks);
    const stakeOfSpan = stakeBySpan(params, changes);
    const { paid } = simulateRewards({ params, blocks, stakeOfSpan, timestampOf: (h) => h * 2 });
    // Target: 20% a year of the capped stake in force, span by span (300 s each).
    const spans = blocks / params.spanLength;
    let targetNum = 0n;
    const stakes = new Set<bigint>();
    for (let s = 0; s < spans; s++) {
      stakes.add(stakeOfSpan(s));
      targetNum += stakeOfSpan(s) * 2_000n * BigInt(params.spanLength * 2);
    }
    const den = 10_000n * BigInt(params.secondsPerYear);
    expect(stakes.size).toBeGreaterThanOrEqual(5); // the set did change
    expect(paid * den <= targetNum).toBe(true);
    expect((paid + BigInt(blocks)) * den >= targetNum).toBe(true);
    // Sanity in plain units: time-weighted capped stake x 20%.
    const avgStake = targetNum / (2_000n * BigInt(params.spanLength * 2) * BigInt(spans));
    const ppm = (paid * 1_000_000n) / avgStake;
    expect(ppm >= 199_999n && ppm <= 200_000n).toBe(true);
  });

  it("a constant set gets exactly 20% of its capped stake over a year, within rounding", () => {
    const params = createRotationParams();
    const blocks = params.secondsPerYear / 2;
    const stake = validatorSetFromStake(GENESIS, params).totalCappedStake; // 250k capped to 100k
    expect(stake).toBe(265_000n * TOKEN);
    const { paid } = simulateRewards({ params, blocks, stakeOfSpan: () => stake, timestampOf: (h) => h * 2 });
    const target = (stake * 20n) / 100n;
    expect(paid <= target && target - paid <= BigInt(blocks)).toBe(true);
  });

  it("follows the observed block rate: 2.5 s blocks still pay close to 20% a year", () => {
    const params = createRotationParams();
    const stake = 1_000_000n * TOKEN;
    // Alternating 2 s and 3 s blocks for a calendar year.
    const blocks = Math.floor(params.secondsPerYear / 2.5);
    const timestampOf = (h: number) => h * 2 + Math.floor(h / 2);
    const observed = simulateRewards({ params, blocks, stakeOfSpan: () => stake, timestampOf });
    // Only the first period (before any observation) pays at the nominal 2 s rate.
    const ppm = (observed.paid * 1_000_000n) / stake;
    expect(ppm > 198_000n && ppm <= 200_000n).toBe(true);
    // Without observation a 2.5 s chain would pay 16%.
    const nominalOnly = (stake * 2_000n * 2n * BigInt(blocks)) / (10_000n * BigInt(params.secondsPerYear));
    expect((nominalOnly * 1_000_000n) / stake).toBeLessThan(160_001n);
  });
});
