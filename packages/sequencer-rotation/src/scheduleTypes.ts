import type { Hex } from "@dseq/common";
import type { RotationParams } from "./params.ts";
import type { PrioritySet } from "./proposerPriority.ts";
import type { BlockRate, RewardCheckpoint, RewardLedgerSnapshot } from "./rewards.ts";
import type { Address, StakeRecord, ValidatorSet } from "./types.ts";

/** The chain's starting point: block 0 and the stake recorded at genesis. */
export type RotationGenesis = {
  readonly records: readonly StakeRecord[];
  /** Hash of block 0: seeds the draws of spans 0 and 1. */
  readonly hash: Hex;
  /** Timestamp of block 0, seconds: start of the first reward period. */
  readonly timestamp: number;
};

export type RotationScheduleOptions = {
  readonly params: RotationParams;
  readonly genesis: RotationGenesis;
  /** Past spans kept for `spanAt` / `validatorSetAt` queries (default 4). */
  readonly historySpans?: number;
};

/** Who holds round 0 from which height on, within a span. Election 0 is the span draw. */
export type SpanElection = {
  readonly election: number;
  readonly fromHeight: number;
  readonly sequencer: Address;
};

/** One span: its heights, its validator set, its draw and any re-elections. */
export type SpanInfo = {
  readonly index: number;
  readonly startHeight: number;
  readonly endHeight: number;
  /** Height whose block hash seeded the draw, and that hash. */
  readonly seedHeight: number;
  readonly seed: Hex;
  readonly validatorSet: ValidatorSet;
  /** True when the stake left no eligible sequencer and the previous span's set was kept. */
  readonly carriedOver: boolean;
  readonly elections: readonly SpanElection[];
};

/** A re-election: `replaced` missed round 0 on `misses` consecutive heights up to `atHeight`. */
export type Reelection = {
  readonly span: number;
  readonly atHeight: number;
  readonly replaced: Address;
  readonly sequencer: Address;
  readonly election: number;
  readonly fromHeight: number;
};

/** What committing one block changed. */
export type BlockOutcome = {
  readonly height: number;
  readonly reward: { readonly id: number; readonly proposer: Address; readonly amount: bigint };
  readonly reelection?: Reelection;
  /** Set when this block ended a span: the span that starts at the next height. */
  readonly spanStarted?: SpanInfo;
  /** Set when this block ended a checkpoint interval. */
  readonly checkpoint?: RewardCheckpoint;
};

/** Where a re-election stands in the current span. */
export type ReelectionState = {
  readonly span: number;
  readonly sequencer: Address;
  /** Consecutive heights of this span, up to the last committed one, whose block was not the sequencer's. */
  readonly missStreak: number;
  readonly reelectAfterMisses: number;
  readonly excluded: readonly Address[];
};

/** Plain data from which `restoreRotationSchedule` rebuilds an identical schedule. */
export type RotationSnapshot = {
  readonly version: 1;
  readonly nextHeight: number;
  readonly records: readonly StakeRecord[];
  readonly span: SpanInfo;
  readonly history: readonly SpanInfo[];
  readonly priorities: PrioritySet;
  readonly missStreak: number;
  readonly seeds: readonly (readonly [number, Hex])[];
  readonly periodStartTimestamp: number;
  readonly blockRate: BlockRate;
  readonly rewardPerBlock: bigint;
  readonly ledger: RewardLedgerSnapshot;
  readonly lastTimestamp: number;
};
