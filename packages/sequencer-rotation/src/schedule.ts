import { type Hex, isHex } from "@dseq/common";
import { assertAddress } from "./address.ts";
import { applyStakeChange, createStakeRegistry, type StakeRegistry } from "./applyStakeChange.ts";
import { RotationError, RotationErrorCode } from "./errors.ts";
import { type RotationParams, validateRotationParams } from "./params.ts";
import {
  incrementProposerPriority,
  newPrioritySet,
  type PrioritySet,
  updatePrioritySet,
} from "./proposerPriority.ts";
import {
  type BlockRate,
  nominalBlockRate,
  type RewardCheckpoint,
  RewardLedger,
  type RewardLedgerSnapshot,
  rewardPerBlock,
} from "./rewards.ts";
import { drawWeightedIndex, spanDrawPrefix } from "./sampler.ts";
import { seedHeightOf, spanEndHeight, spanIndexOf, spanStartHeight } from "./span.ts";
import type { Address, CommittedBlock, StakeRecord, Validator, ValidatorSet } from "./types.ts";
import { validatorSetFromStake } from "./validatorSetFromStake.ts";

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

const HASH_RE = /^0x[0-9a-f]{64}$/;

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
    if (!HASH_RE.test(g.hash)) throw invalidBlock("genesis hash must be 0x + 64 lower-case hex", {});
    if (!Number.isSafeInteger(g.timestamp) || g.timestamp < 0)
      throw invalidBlock("bad genesis timestamp", {});
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
    const seed = this.seeds.get(index);
    if (seed === undefined)
      throw new RotationError(RotationErrorCode.Invariant, "missing span seed", { details: { index } });
    const pending = this.pendingValidatorSet();
    const validatorSet = pending.validators.length === 0 ? this.span.validatorSet : pending;
    return {
      index,
      seedHeight: seedHeightOf(index, this.params.spanLength),
      seed,
      sequencer: draw(seed, index, 0, validatorSet.validators),
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
    this.checkBlock(block);
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

    const reelection = this.trackMiss(block);
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

  private checkBlock(block: CommittedBlock): void {
    if (block.height !== this.height) {
      throw new RotationError(RotationErrorCode.HeightMismatch, "blocks must be applied in height order", {
        details: { height: block.height, expected: this.height },
      });
    }
    if (!Number.isSafeInteger(block.round) || block.round < 0)
      throw invalidBlock("bad round", { round: block.round });
    if (typeof block.hash !== "string" || !HASH_RE.test(block.hash)) {
      throw invalidBlock("hash must be 0x + 64 lower-case hex", { hash: String(block.hash) });
    }
    assertAddress(block.proposer, "proposer");
    if (!Number.isSafeInteger(block.timestamp) || block.timestamp < this.lastTimestamp) {
      throw invalidBlock("timestamp must be an integer not below the parent's", {
        timestamp: block.timestamp,
        parent: this.lastTimestamp,
      });
    }
  }

  /**
   * Counts heights whose committed block is not the span sequencer's (its round-0 proposal was
   * not what got committed) and re-elects after `reelectAfterMisses` in a row.
   */
  private trackMiss(block: CommittedBlock): Reelection | undefined {
    // The sequencer's own block was committed (in round 0, or later after a re-proposal).
    if (block.proposer === this.sequencerAt(block.height)) {
      this.missStreak = 0;
      return undefined;
    }
    this.missStreak++;
    if (this.missStreak < this.params.reelectAfterMisses || block.height >= this.span.endHeight)
      return undefined;
    this.missStreak = 0;
    const replaced = this.sequencerAt(block.height);
    const excluded = new Set([...excludedOf(this.span), replaced]);
    const validators = this.span.validatorSet.validators;
    let candidates = validators.filter((v) => !excluded.has(v.address));
    // Everyone else was replaced earlier in this span: only the failing sequencer is skipped
    // (an earlier one may be back). With nobody at all (one validator) it keeps the span.
    if (candidates.length === 0) candidates = validators.filter((v) => v.address !== replaced);
    if (candidates.length === 0) return undefined;
    const election = this.span.elections.length;
    const sequencer = draw(this.span.seed, this.span.index, election, candidates);
    const fromHeight = block.height + 1;
    this.span = { ...this.span, elections: [...this.span.elections, { election, fromHeight, sequencer }] };
    return { span: this.span.index, atHeight: block.height, replaced, sequencer, election, fromHeight };
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

  private drawSpan(index: number, set: ValidatorSet, carriedOver: boolean): SpanInfo {
    const seed = this.seeds.get(index);
    if (seed === undefined)
      throw new RotationError(RotationErrorCode.Invariant, "missing span seed", { details: { index } });
    this.seeds.delete(index);
    const L = this.params.spanLength;
    const startHeight = spanStartHeight(index, L);
    const sequencer = draw(seed, index, 0, set.validators);
    return {
      index,
      startHeight,
      endHeight: spanEndHeight(index, L),
      seedHeight: seedHeightOf(index, L),
      seed,
      validatorSet: set,
      carriedOver,
      elections: [{ election: 0, fromHeight: startHeight, sequencer }],
    };
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

/** Stake-weighted draw of one sequencer for (span, election) among `candidates` (address order). */
export function drawSpanSequencer(
  seed: Hex,
  spanIndex: number,
  election: number,
  candidates: readonly Validator[],
): Address {
  return draw(seed, spanIndex, election, candidates);
}

function draw(seed: Hex, spanIndex: number, election: number, candidates: readonly Validator[]): Address {
  if (!isHex(seed)) throw new RotationError(RotationErrorCode.InvalidSeed, "seed must be hex");
  const prefix = spanDrawPrefix(seed, spanIndex, election);
  const i = drawWeightedIndex(
    prefix,
    candidates.map((v) => ({ address: v.address, weight: v.power })),
  );
  return candidates[i]!.address;
}

/** Sequencers replaced earlier in the span, except the current one, in order, once each. */
function excludedOf(span: SpanInfo): Address[] {
  const current = span.elections.at(-1)!.sequencer;
  const out: Address[] = [];
  for (const e of span.elections.slice(0, -1)) {
    if (e.sequencer !== current && !out.includes(e.sequencer)) out.push(e.sequencer);
  }
  return out;
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

function invalidBlock(message: string, details: Record<string, unknown>): RotationError {
  return new RotationError(RotationErrorCode.InvalidBlock, message, { details });
}
