import { RotationError, RotationErrorCode } from "./errors.ts";

/** Every knob of rotation and rewards. All integers; amounts in wei. */
export type RotationParams = {
  /** Blocks per span; each span has one sequencer. */
  readonly spanLength: number;
  /** Consecutive heights without a round-0 commit after which the span sequencer is replaced. */
  readonly reelectAfterMisses: number;
  /** Minimum locked amount (wei) for a sequencer to be in the set. */
  readonly minLock: bigint;
  /** Locked amount (wei) above which stake earns no more power or reward. */
  readonly maxLock: bigint;
  /** Token decimals: voting power is `floor(capped / 10^decimals)`. */
  readonly decimals: number;
  /** Blocks per reward period: the observed block rate is re-measured at each period end. */
  readonly rewardPeriodBlocks: number;
  /** Target annual reward as basis points of total capped stake (2000 = 20%). */
  readonly rewardRateBps: number;
  /** Nominal block time, used until a full reward period has been observed. */
  readonly blockTimeSeconds: number;
  /** Seconds in a reward year (365 days). */
  readonly secondsPerYear: number;
  /** Blocks between reward checkpoints. */
  readonly checkpointIntervalBlocks: number;
};

const TOKEN = 10n ** 18n;

export const defaultRotationParams: RotationParams = {
  spanLength: 150,
  reelectAfterMisses: 3,
  minLock: 20_000n * TOKEN,
  maxLock: 100_000n * TOKEN,
  decimals: 18,
  rewardPeriodBlocks: (14 * 86_400) / 2,
  rewardRateBps: 2_000,
  blockTimeSeconds: 2,
  secondsPerYear: 365 * 86_400,
  checkpointIntervalBlocks: 86_400 / 2,
};

/** `defaultRotationParams` with overrides, validated. */
export function createRotationParams(overrides: Partial<RotationParams> = {}): RotationParams {
  const params = { ...defaultRotationParams, ...overrides };
  validateRotationParams(params);
  return params;
}

export function validateRotationParams(p: RotationParams): void {
  const positiveInts: (keyof RotationParams)[] = [
    "spanLength",
    "reelectAfterMisses",
    "rewardPeriodBlocks",
    "blockTimeSeconds",
    "secondsPerYear",
    "checkpointIntervalBlocks",
  ];
  for (const key of positiveInts) {
    const v = p[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
      throw new RotationError(RotationErrorCode.InvalidParams, `${key} must be a positive integer`, {
        details: { [key]: String(v) },
      });
    }
  }
  if (!Number.isSafeInteger(p.rewardRateBps) || p.rewardRateBps < 0) {
    throw new RotationError(RotationErrorCode.InvalidParams, "rewardRateBps must be a non-negative integer");
  }
  if (!Number.isSafeInteger(p.decimals) || p.decimals < 0 || p.decimals > 36) {
    throw new RotationError(RotationErrorCode.InvalidParams, "decimals must be an integer in [0, 36]");
  }
  const unit = 10n ** BigInt(p.decimals);
  if (p.minLock < unit || p.maxLock < p.minLock) {
    throw new RotationError(RotationErrorCode.InvalidParams, "need 1 token <= minLock <= maxLock", {
      details: { minLock: String(p.minLock), maxLock: String(p.maxLock) },
    });
  }
}
