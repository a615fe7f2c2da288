import type { Hex } from "@dseq/common";
import { applyStakeChange, createStakeRegistry, type StakeRegistry } from "./applyStakeChange.ts";
import { checkCommittedBlock, checkGenesis } from "./checkCommittedBlock.ts";
import { drawSpan, drawSpanSequencer, excludedOf, spanSeed } from "./drawSpan.ts";
import { RotationError, RotationErrorCode } from "./errors.ts";
import { type RotationParams, validateRotationParams } from "./params.ts";
import {
  incrementProposerPriority,
  newPrioritySet,
  type PrioritySet,
  updatePrioritySet,
} from "./proposerPriority.ts";
import { type BlockRate, nominalBlockRate, RewardLedger, rewardPerBlock } from "./rewards.ts";
import type {
  BlockOutcome,
  Reelection,
  ReelectionState,
  RotationGenesis,
  RotationScheduleOptions,
  RotationSnapshot,
  SpanElection,
  SpanInfo,
} from "./scheduleTypes.ts";
import { seedHeightOf, spanIndexOf } from "./span.ts";
import { trackMiss } from "./trackMiss.ts";
import type { Address, CommittedBlock, StakeRecord, ValidatorSet } from "./types.ts";
import { validatorSetFromStake } from "./validatorSetFromStake.ts";

export type {
  BlockOutcome,
  Reelection,
  ReelectionState,
  RotationGenesis,
  RotationScheduleOptions,
  RotationSnapshot,
  SpanElection,
  SpanInfo,
};
export { drawSpanSequencer };

/**
 * The rotation schedule: consumes committed blocks one at a time, in height order, and answers
 * who proposes, who is in the set, and who earned what. Everything it knows is derived from the
 * genesis and the committed blocks, so two nodes (or one node rebuilding from scratch) that feed
 * it the same blocks hold identical schedules.
 */
export class RotationSchedule {
  readonly params: RotationParams;
  private readonly historySpans: number;
  private registry: StakeRegistry;
  private span: SpanInfo;
  private readonly history: SpanInfo[];
  /** CometBFT priority state of `nextHeight` (round increments are taken on copies). */
  private priorities: PrioritySet;
  /** Cached round chain of `nextHeight`: roundChain[r - 1] = state after r increments. */
  private roundChain: { set: PrioritySet; proposer: string }[] = [];
  /** Proposers of rounds 1, 2, ... of `nextHeight` (the round chain without the sequencer). */
  private roundProposers: string[] = [];
  private missStreak: number;
  private readonly seeds: Map<number, Hex>;
  private periodStartTimestamp: number;
  private blockRate: BlockRate;
  private currentRewardPerBlock: bigint;
  private readonly ledger: RewardLedger;
  private lastTimestamp: number;
  private height: number;

  constructor(
    opts:
      | RotationScheduleOptions
      | { params: RotationParams; snapshot: RotationSnapshot; historySpans?: number },
  ) {
    validateRotationParams(opts.params);
    this.params = opts.params;
    this.historySpans = opts.historySpans ?? 4;
    if ("snapshot" in opts) {
      const s = opts.snapshot;
      this.height = s.nextHeight;
      this.registry = createStakeRegistry(s.records);
      this.span = s.span;
      this.history = [...s.history];
      this.priorities = s.priorities;
      this.missStreak = s.missStreak;
      this.seeds = new Map(s.seeds);
      this.periodStartTimestamp = s.periodStartTimestamp;
      this.blockRate = s.blockRate;
      this.currentRewardPerBlock = s.rewardPerBlock;
      this.ledger = RewardLedger.fromSnapshot(s.ledger);
      this.lastTimestamp = s.lastTimestamp;
      return;
    }
    const g = opts.genesis;
    checkGenesis(g);
    this.registry = createStakeRegistry(g.records);
    const set = validatorSetFromStake(this.registry, this.params);
    if (set.validators.length === 0) {
      throw new RotationError(
        RotationErrorCode.EmptySet,
        "genesis has no active sequencer with at least minLock",
      );
    }
    this.height = 1;
    this.seeds = new Map([
      [0, g.hash],
      [1, g.hash],
    ]);
    this.history = [];
    this.span = this.drawSpan(0, set, false);
    this.priorities = newPrioritySet(powers(set)).set;
    this.missStreak = 0;
    this.periodStartTimestamp = g.timestamp;
    this.lastTimestamp = g.timestamp;
    this.blockRate = nominalBlockRate(this.params);
    this.ledger = new RewardLedger();
    this.currentRewardPerBlock = rewardPerBlock(set.totalCappedStake, this.blockRate, this.params);
  }

  /** The next height to be committed (the one consensus is deciding). */
  get nextHeight(): number {
    return this.height;
  }

  /** The span holding `nextHeight`. */
  currentSpan(): SpanInfo {
    return this.span;
  }

  /** The span holding `height`: the current one or a retained past one. */
  spanAt(height: number): SpanInfo {
    const index = spanIndexOf(height, this.params.spanLength);
    if (index === this.span.index) return this.span;
    const past = this.history.find((s) => s.index === index);
    if (past) return past;
    throw new RotationError(RotationErrorCode.HeightOutOfRange, "height is outside the known spans", {
      details: { height, currentSpan: this.span.index, retained: this.history.map((s) => s.index) },
    });
  }

  /** The validator set (with voting power) deciding `height`. */
  validatorSetAt(height: number): ValidatorSet {
    return this.spanAt(height).validatorSet;
  }

  /**
   * The round-0 proposer of `height`. For heights of the current span not yet committed this is
   * the sequencer as of now (a re-election may still replace it).
   */
  sequencerAt(height: number): Address {
    const span = this.spanAt(height);
    let who = span.elections[0]!.sequencer;
    for (const e of span.elections) if (e.fromHeight <= height) who = e.sequencer;
    return who;
  }

  /**
   * Proposer of (height, round). Round 0 is the span sequencer. Rounds >= 1 follow CometBFT's
   * proposer priority from the state of `height`, one increment per round; they are answered
   * for `nextHeight` only (the priority state moves with every commit).
   */
  proposerFor(height: number, round: number): Address {
    if (!Number.isSafeInteger(round) || round < 0) {
      throw new RotationError(RotationErrorCode.InvalidRound, "round must be a non-negative integer", {
        details: { round },
      });
    }
    if (round === 0) {
      if (height < this.height) return this.sequencerAt(height);
      if (height > this.span.endHeight) throw outOfRange(height, this.height, this.span.endHeight);
      return this.sequencerAt(this.height);
    }
    if (height !== this.height) throw outOfRange(height, this.height, this.height);
    // Round 0 failed, most likely because its proposer is down: later rounds skip it (when
    // anyone else can propose), so a dead sequencer costs one round, never two in a row.
    const sequencer = this.sequencerAt(this.height);
    const others = this.priorities.validators.length > 1;
    while (this.roundProposers.length < round) {
      const from = this.roundChain.at(-1)?.set ?? this.priorities;
      const next = incrementProposerPriority(from, 1);
      this.roundChain.push(next);
      if (!others || next.proposer !== sequencer) this.roundProposers.push(next.proposer);
    }
    return this.roundProposers[round - 1] as Address;
  }

  /** Re-election bookkeeping of the current span. */
  reelectionState(): ReelectionState {
    return {
      span: this.span.index,
      sequencer: this.sequencerAt(this.height),
      missStreak: this.missStreak,
      reelectAfterMisses: this.params.reelectAfterMisses,
      excluded: excludedOf(this.span),
    };
  }

  /** Stake records as of the last committed block (changes not yet in force included). */
  stakeRecords(): StakeRecord[] {
    return [...this.registry.values()].sort((a, b) => a.id - b.id);
  }

  /** The set the next span would get if the current span ended now. */
  pendingValidatorSet(): ValidatorSet {
    return validatorSetFromStake(this.registry, this.params);
  }

  /**
   * The next span as it would be drawn if the current span ended now: its seed is already
   * fixed; its set (and so its sequencer) can still change with stake changes committed before
   * the current span ends. Lets the likely next sequencer prepare.
   */
  nextSpanPreview(): {
    index: number;
    seedHeight: number;
    seed: Hex;
    sequencer: Address;
    validatorSet: ValidatorSet;
  } {
    const index = this.span.index + 1;
    const seed = spanSeed(this.seeds, index);
    const pending = this.pendingValidatorSet();
    const validatorSet = pending.validators.length === 0 ? this.span.validatorSet : pending;
    return {
      index,
      seedHeight: seedHeightOf(index, this.params.spanLength),
      seed,
      sequencer: drawSpanSequencer(seed, index, 0, validatorSet.validators),
      validatorSet,
    };
  }

  /** CometBFT priority state of `nextHeight`. */
  priorityState(): PrioritySet {
    return this.priorities;
  }

  /** Reward per block in force for `nextHeight`, wei. */
  rewardPerBlock(): bigint {
    return this.currentRewardPerBlock;
  }

  /** The block rate the reward per block is computed from. */
  observedBlockRate(): BlockRate {
    return this.blockRate;
  }

  /** Rewards of sequencer `id`: since the last checkpoint and since genesis. */
  rewardsOf(id: number): { accrued: bigint; earned: bigint } {
    return { accrued: this.ledger.accrued(id), earned: this.ledger.earned(id) };
  }

  /** All rewards paid since genesis. */
  totalRewardsPaid(): bigint {
    return this.ledger.totalPaid();
  }

  /** Ids that earned anything since genesis. */
  rewardedIds(): number[] {
    return this.ledger.ids();
  }

  /**
   * Commits one block. Checks that it is the next height and that its proposer is the one this
   * schedule expects for its round (a mismatch means the inputs disagree with consensus: the
   * node must halt), then applies rewards, re-election, stake changes, period and span ends.
   */
  applyBlock(block: CommittedBlock): BlockOutcome {
    checkCommittedBlock(block, this.height, this.lastTimestamp);
    // The block was proposed in some round <= its commit round: a block locked in an earlier
    // round is re-proposed unchanged (Tendermint's POL rule), so its proposer is the earlier one.
    let proposedIn = -1;
    for (let r = 0; r <= block.round && proposedIn < 0; r++) {
      if (this.proposerFor(block.height, r) === block.proposer) proposedIn = r;
    }
    if (proposedIn < 0) {
      throw new RotationError(
        RotationErrorCode.ProposerMismatch,
        "committed block has an unexpected proposer",
        {
          details: {
            height: block.height,
            round: block.round,
            proposer: block.proposer,
            expected: this.proposerFor(block.height, block.round),
          },
        },
      );
    }
    let registry = this.registry;
    for (const change of block.stakeChanges ?? []) registry = applyStakeChange(registry, change);

    const proposer = this.span.validatorSet.validators.find((v) => v.address === block.proposer)!;
    const amount = this.currentRewardPerBlock;
    this.ledger.credit(proposer.id, proposer.rewardRecipient, amount);

    const miss = trackMiss(
      { span: this.span, missStreak: this.missStreak },
      this.params.reelectAfterMisses,
      this.sequencerAt(block.height),
      block,
    );
    this.span = miss.span;
    this.missStreak = miss.missStreak;
    const reelection = miss.reelection;
    this.registry = registry;
    this.lastTimestamp = block.timestamp;

    let rewardInputsChanged = false;
    if (block.height % this.params.rewardPeriodBlocks === 0) {
      const seconds = block.timestamp - this.periodStartTimestamp;
      if (seconds > 0) {
        this.blockRate = { seconds: BigInt(seconds), blocks: BigInt(this.params.rewardPeriodBlocks) };
      }
      this.periodStartTimestamp = block.timestamp;
      rewardInputsChanged = true;
    }

    const checkpoint =
      block.height % this.params.checkpointIntervalBlocks === 0
        ? this.ledger.checkpoint(block.height)
        : undefined;

    const L = this.params.spanLength;
    if (block.height % L === 0) this.seeds.set(block.height / L + 1, block.hash);

    let spanStarted: SpanInfo | undefined;
    let base = this.priorities;
    if (block.height === this.span.endHeight) {
      spanStarted = this.startNextSpan();
      base = samePowers(this.priorities, spanStarted.validatorSet)
        ? this.priorities
        : updatePrioritySet(this.priorities, powers(spanStarted.validatorSet));
      rewardInputsChanged = true;
    }
    if (rewardInputsChanged) {
      this.currentRewardPerBlock = rewardPerBlock(
        this.span.validatorSet.totalCappedStake,
        this.blockRate,
        this.params,
      );
    }
    this.priorities = incrementProposerPriority(base, 1).set;
    this.roundChain = [];
    this.roundProposers = [];
    this.height = block.height + 1;
    return {
      height: block.height,
      reward: { id: proposer.id, proposer: proposer.address, amount },
      ...(reelection ? { reelection } : {}),
      ...(spanStarted ? { spanStarted } : {}),
      ...(checkpoint ? { checkpoint } : {}),
    };
  }

  /** Plain data that `restoreRotationSchedule` turns back into an identical schedule. */
  snapshot(): RotationSnapshot {
    return {
      version: 1,
      nextHeight: this.height,
      records: this.stakeRecords(),
      span: this.span,
      history: [...this.history],
      priorities: this.priorities,
      missStreak: this.missStreak,
      seeds: [...this.seeds].sort((a, b) => a[0] - b[0]),
      periodStartTimestamp: this.periodStartTimestamp,
      blockRate: this.blockRate,
      rewardPerBlock: this.currentRewardPerBlock,
      ledger: this.ledger.snapshot(),
      lastTimestamp: this.lastTimestamp,
    };
  }

  private drawSpan(index: number, set: ValidatorSet, carriedOver: boolean): SpanInfo {
    const seed = spanSeed(this.seeds, index);
    this.seeds.delete(index);
    return drawSpan(seed, this.params.spanLength, index, set, carriedOver);
  }

  private startNextSpan(): SpanInfo {
    this.history.push(this.span);
    while (this.history.length > this.historySpans) this.history.shift();
    const prev = this.span.validatorSet;
    const next = validatorSetFromStake(this.registry, this.params);
    const carriedOver = next.validators.length === 0;
    this.span = this.drawSpan(this.span.index + 1, carriedOver ? prev : next, carriedOver);
    this.missStreak = 0;
    return this.span;
  }
}

/** A schedule at genesis: feed it committed blocks with `applyBlock`. */
export function createRotationSchedule(opts: RotationScheduleOptions): RotationSchedule {
  return new RotationSchedule(opts);
}

/** A schedule identical to the one that produced `snapshot`. */
export function restoreRotationSchedule(
  params: RotationParams,
  snapshot: RotationSnapshot,
  opts: { historySpans?: number } = {},
): RotationSchedule {
  if (snapshot.version !== 1)
    throw new RotationError(RotationErrorCode.SnapshotVersion, "unknown snapshot version");
  return new RotationSchedule({ params, snapshot, ...opts });
}

function powers(set: ValidatorSet): { address: string; power: bigint }[] {
  return set.validators.map((v) => ({ address: v.address, power: v.power }));
}

function samePowers(p: PrioritySet, set: ValidatorSet): boolean {
  if (p.validators.length !== set.validators.length) return false;
  return p.validators.every(
    (v, i) => v.address === set.validators[i]!.address && v.power === set.validators[i]!.power,
  );
}

function outOfRange(height: number, from: number, to: number): RotationError {
  return new RotationError(
    RotationErrorCode.HeightOutOfRange,
    "no proposer known for this height and round",
    {
      details: { height, from, to },
    },
  );
}
