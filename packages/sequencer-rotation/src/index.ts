export { compareAddresses, isAddress } from "./address.ts";
export {
  applyStakeChange,
  createStakeRegistry,
  type StakeRegistry,
  stakeChangeError,
  stakeChangesError,
} from "./applyStakeChange.ts";
export { RotationError, RotationErrorCode } from "./errors.ts";
export {
  createRotationParams,
  defaultRotationParams,
  type RotationParams,
  validateRotationParams,
} from "./params.ts";
export {
  centre,
  floorDiv,
  incrementProposerPriority,
  MAX_TOTAL_VOTING_POWER,
  newPrioritySet,
  type PowerEntry,
  PRIORITY_WINDOW_SIZE_FACTOR,
  type PrioritySet,
  type PriorityStep,
  type PriorityValidator,
  rescale,
  updatePrioritySet,
} from "./proposerPriority.ts";
export {
  type BlockRate,
  encodeRewardCheckpoint,
  nominalBlockRate,
  REWARD_CHECKPOINT_DOMAIN,
  type RewardCheckpoint,
  type RewardEntry,
  RewardLedger,
  type RewardLedgerSnapshot,
  rewardCheckpointHash,
  rewardPerBlock,
} from "./rewards.ts";
export {
  drawWeightedIndex,
  SPAN_DRAW_DOMAIN,
  spanDrawPrefix,
  uniformBelow,
  type WeightedCandidate,
} from "./sampler.ts";
export {
  type BlockOutcome,
  createRotationSchedule,
  drawSpanSequencer,
  type Reelection,
  type ReelectionState,
  type RotationGenesis,
  RotationSchedule,
  type RotationScheduleOptions,
  type RotationSnapshot,
  restoreRotationSchedule,
  type SpanElection,
  type SpanInfo,
} from "./schedule.ts";
export { decodeRotationSnapshot, encodeRotationSnapshot } from "./snapshotJson.ts";
export { seedHeightOf, spanEndHeight, spanIndexOf, spanStartHeight } from "./span.ts";
export type {
  Address,
  CommittedBlock,
  StakeChange,
  StakeChangeKind,
  StakeRecord,
  StakeStatus,
  Validator,
  ValidatorSet,
} from "./types.ts";
export {
  cappedStake,
  makeValidatorSet,
  validatorSetFromStake,
  votingPower,
} from "./validatorSetFromStake.ts";
