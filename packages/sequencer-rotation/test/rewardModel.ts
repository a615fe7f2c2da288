// Test support: the reward rule written as a model over segments (not per block), used to
// simulate a year cheaply. test/rewards.test.ts checks it block for block against the schedule.
import {
  type BlockRate,
  nominalBlockRate,
  type RotationParams,
  rewardPerBlock,
  spanIndexOf,
} from "../src/index.ts";

export type RewardModelInput = {
  params: RotationParams;
  blocks: number;
  /** Total capped stake of the validator set of each span. */
  stakeOfSpan: (span: number) => bigint;
  /** Block timestamp (seconds); height 0 is genesis. */
  timestampOf: (height: number) => number;
};

export type RewardModelResult = {
  paid: bigint;
  /** Reward per block in force for each segment start height. */
  segments: { fromHeight: number; toHeight: number; rewardPerBlock: bigint }[];
};

/**
 * The documented rule: reward per block = f(capped stake of the current span's set, block rate
 * of the last complete reward period, or the nominal rate before one), recomputed when a span
 * starts and when a reward period ends.
 */
export function simulateRewards(input: RewardModelInput): RewardModelResult {
  const { params, blocks } = input;
  const L = params.spanLength;
  const R = params.rewardPeriodBlocks;
  let rate: BlockRate = nominalBlockRate(params);
  let periodStart = input.timestampOf(0);
  let rpb = rewardPerBlock(input.stakeOfSpan(0), rate, params);
  let paid = 0n;
  const segments: RewardModelResult["segments"] = [];
  let h = 1;
  while (h <= blocks) {
    // Next height at which the inputs may change: a span end or a period end.
    const nextSpanEnd = (spanIndexOf(h, L) + 1) * L;
    const nextPeriodEnd = Math.ceil(h / R) * R;
    const end = Math.min(nextSpanEnd, nextPeriodEnd, blocks);
    paid += rpb * BigInt(end - h + 1);
    segments.push({ fromHeight: h, toHeight: end, rewardPerBlock: rpb });
    if (end % R === 0) {
      const seconds = input.timestampOf(end) - periodStart;
      if (seconds > 0) rate = { seconds: BigInt(seconds), blocks: BigInt(R) };
      periodStart = input.timestampOf(end);
    }
    rpb = rewardPerBlock(input.stakeOfSpan(spanIndexOf(end + 1, L)), rate, params);
    h = end + 1;
  }
  return { paid, segments };
}
