import { DseqError, type DseqErrorOptions } from "@dseq/common";

/**
 * Stable codes of every error this package throws (`DseqError.code`); callers match on these, never on message text.
 */
export const RotationErrorCode = {
  CheckpointOrder: "ROTATION_CHECKPOINT_ORDER",
  DuplicateValidator: "ROTATION_DUPLICATE_VALIDATOR",
  EmptySet: "ROTATION_EMPTY_SET",
  HeightMismatch: "ROTATION_HEIGHT_MISMATCH",
  HeightOutOfRange: "ROTATION_HEIGHT_OUT_OF_RANGE",
  InvalidAddress: "ROTATION_INVALID_ADDRESS",
  InvalidBlock: "ROTATION_INVALID_BLOCK",
  InvalidBound: "ROTATION_INVALID_BOUND",
  InvalidParams: "ROTATION_INVALID_PARAMS",
  InvalidPower: "ROTATION_INVALID_POWER",
  InvalidRewardInput: "ROTATION_INVALID_REWARD_INPUT",
  InvalidRound: "ROTATION_INVALID_ROUND",
  InvalidSeed: "ROTATION_INVALID_SEED",
  InvalidStakeChange: "ROTATION_INVALID_STAKE_CHANGE",
  InvalidTimes: "ROTATION_INVALID_TIMES",
  InvalidWeight: "ROTATION_INVALID_WEIGHT",
  Invariant: "ROTATION_INVARIANT",
  ProposerMismatch: "ROTATION_PROPOSER_MISMATCH",
  SamplerExhausted: "ROTATION_SAMPLER_EXHAUSTED",
  SnapshotInvalid: "ROTATION_SNAPSHOT_INVALID",
  SnapshotVersion: "ROTATION_SNAPSHOT_VERSION",
  UnsortedCandidates: "ROTATION_UNSORTED_CANDIDATES",
} as const;
export type RotationErrorCode = (typeof RotationErrorCode)[keyof typeof RotationErrorCode];

export class RotationError extends DseqError {
  override readonly code: RotationErrorCode;
  constructor(code: RotationErrorCode, message: string, opts: DseqErrorOptions = {}) {
    super(code, message, opts);
    this.name = "RotationError";
    this.code = code;
  }
}
