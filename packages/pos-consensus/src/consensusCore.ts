import { equalBytes, type Hex } from "@dseq/common";
import { isCertificateShape, isMessageShape, isVoteShape } from "./codec.ts";
import { makeCommitCertificate } from "./commitCertificate.ts";
import { ConsensusError, ConsensusErrorCode } from "./errors.ts";
import { verifyProposalSignature } from "./evidence.ts";
import type { VerifyFn } from "./signer.ts";
import {
  type Block,
  type CommitCertificate,
  type ConsensusMessage,
  type Evidence,
  MsgType,
  type Proposal,
  Step,
  type TimeoutConfig,
  type TimeoutStep,
  type UnsignedProposal,
  type UnsignedVote,
  type Vote,
  type VoteType,
} from "./types.ts";
import type { HeightValidators } from "./validatorSet.ts";
import { VoteSet } from "./voteSet.ts";

/*
 * Over 500 lines on purpose: this is the paper's state machine, one `step` switching over the
 * inputs and one set of upon-rules over one state; split across files, a reader
 * would lose the line-by-line match with Algorithm 1. Types sit beside it because every rule
 * reads them. The driver's concerns (queues, WAL, timers, catch-up) live elsewhere.
 *
 * The consensus algorithm of "The latest gossip on BFT consensus" (Buchman, Kwon, Milosevic
 * 2018), Algorithm 1, as a pure function: `step(state, input) -> {state, effects}`. No I/O, no
 * clock, no randomness: the driver carries out the effects (sign, broadcast, schedule a
 * timeout, ask the application, commit) and feeds back their results as inputs, so replaying
 * the same inputs rebuilds the same state. `Lnn` comments cite the paper's line numbers.
 *
 * Departures from the paper, each on purpose:
 * - getValue() and valid(v) are asynchronous in a real node (build or re-execute a block), so
 *   they are effects (`requestValue`, `validate`) whose answers come back as inputs
 *   (`valueReady`, `validated`); rules that need valid(v) wait until it is known.
 * - Own messages are not "broadcast" directly: the core asks for a signature (`signVote`,
 *   `signProposal`), the driver signs behind the double-sign guard, fsyncs the signed message
 *   to the WAL and feeds it back as an input; only then does the core emit `broadcast`.
 * - L21: the proposer schedules timeoutPropose too (CometBFT), so a slow application cannot
 *   keep it in the propose step forever.
 * - L49: the decision needs +2/3 precommits for id(v) and the block v itself, from a proposal
 *   or fetched (catch-up); a node that has the precommits but not the block asks for it.
 * - valid(v) may also say which round v was built for (ADR 0055). Then v counts as valid only
 *   in a consistent context: a fresh proposal (L22, vr = -1) of exactly that round, a
 *   re-proposal (L28) with vr at or after it, a lock (L36) or a decision (L49) in a round at or
 *   after it. Without a round the paper's rules apply unchanged.
 * - +2/3 precommits for nil end the round at once (ADR 0194): the paper waits timeoutPrecommit
 *   (L47, L65), which only costs a dead proposer's round its length.
 * - Inputs of a shape the network could not have produced (missing fields, wrong lengths) are
 *   rejected before any rule looks at them, so `step` never throws on them.
 */

/** Thrown when the state machine finds its own invariants broken: the node must halt. */
export class ConsensusInvariantError extends ConsensusError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(ConsensusErrorCode.Invariant, message, { details });
    this.name = "ConsensusInvariantError";
  }
}

function invariant(cond: unknown, message: string, details?: Record<string, unknown>): asserts cond {
  if (!cond) throw new ConsensusInvariantError(message, details);
}

export type CoreConfig = {
  readonly chainId: bigint;
  /** This node's validator address; null for a node that follows without voting. */
  readonly self: Hex | null;
  readonly timeouts: TimeoutConfig;
  /** Signature check (pure; may be memoized). */
  readonly verify: VerifyFn;
  /** Messages for rounds beyond round + this are dropped (bounds memory per height). */
  readonly maxRoundsAhead: number;
};

export type BlockEntry = {
  readonly block: Block;
  /** valid(v): undefined while the application has not answered. */
  readonly valid: boolean | undefined;
  readonly reason?: string;
  /** The round the application says the block was built for (from valid(v)). */
  readonly round?: number;
};

export type RoundVotes = { readonly prevotes: VoteSet; readonly precommits: VoteSet };

export type Decision = {
  readonly round: number;
  readonly block: Block;
  readonly certificate: CommitCertificate;
};

/** Everything the algorithm knows about the current height. Immutable. */
export type ConsensusState = {
  readonly config: CoreConfig;
  /** h_p */
  readonly height: number;
  readonly validators: HeightValidators;
  /** round_p; -1 before the start input. */
  readonly round: number;
  /** step_p */
  readonly step: Step;
  readonly lockedValue: Hex | null;
  readonly lockedRound: number;
  readonly validValue: Hex | null;
  readonly validRound: number;
  /** The first valid proposal of each round from that round's proposer. */
  readonly proposals: ReadonlyMap<number, Proposal>;
  readonly blocks: ReadonlyMap<Hex, BlockEntry>;
  readonly votes: ReadonlyMap<number, RoundVotes>;
  /** "for the first time" guards (L34, L36, L47), as `${line}:${round}`. */
  readonly done: ReadonlySet<string>;
  /** Own messages decided on, by `${round}:${type}`: each is signed at most once. */
  readonly own: ReadonlyMap<string, UnsignedVote | UnsignedProposal>;
  readonly fetching: ReadonlySet<Hex>;
  /** decision_p[h_p] */
  readonly decision: Decision | null;
};

export type ConsensusInput =
  /** L10: upon start do StartRound(0). */
  | { readonly type: "start" }
  | { readonly type: "proposal"; readonly proposal: Proposal; readonly block: Block }
  | { readonly type: "vote"; readonly vote: Vote }
  /** A commit certificate seen on the network: its precommits count like any other. */
  | { readonly type: "certificate"; readonly certificate: CommitCertificate }
  | { readonly type: "timeout"; readonly height: number; readonly round: number; readonly step: TimeoutStep }
  /** getValue() answered. */
  | { readonly type: "valueReady"; readonly height: number; readonly round: number; readonly block: Block }
  /** valid(v) answered. */
  | {
      readonly type: "validated";
      readonly height: number;
      readonly blockHash: Hex;
      readonly valid: boolean;
      readonly reason?: string;
      /** The round the block was built for, when the application knows it. */
      readonly round?: number;
    }
  /** A block fetched for catch-up. */
  | { readonly type: "block"; readonly height: number; readonly block: Block };

export type RejectReason =
  | "unknownValidator"
  | "badSignature"
  | "wrongHeightRoundType"
  | "wrongProposer"
  | "blockHashMismatch"
  | "badPolRound"
  | "roundTooFar"
  | "malformed";

export type ConsensusEffect =
  | { readonly type: "signProposal"; readonly proposal: UnsignedProposal; readonly block: Block }
  | { readonly type: "signVote"; readonly vote: UnsignedVote }
  | { readonly type: "broadcast"; readonly message: ConsensusMessage }
  | {
      readonly type: "scheduleTimeout";
      readonly height: number;
      readonly round: number;
      readonly step: TimeoutStep;
      readonly ms: number;
    }
  | { readonly type: "requestValue"; readonly height: number; readonly round: number }
  | { readonly type: "validate"; readonly height: number; readonly block: Block }
  | { readonly type: "fetchBlock"; readonly height: number; readonly blockHash: Hex }
  | {
      readonly type: "decide";
      readonly height: number;
      readonly round: number;
      readonly block: Block;
      readonly certificate: CommitCertificate;
    }
  | { readonly type: "evidence"; readonly evidence: Evidence }
  | { readonly type: "rejected"; readonly reason: RejectReason; readonly from: Hex | undefined }
  | { readonly type: "newRound"; readonly height: number; readonly round: number };

export type StepResult = { readonly state: ConsensusState; readonly effects: ConsensusEffect[] };

type Draft = { -readonly [K in keyof ConsensusState]: ConsensusState[K] };
type Fx = ConsensusEffect[];

export const defaultMaxRoundsAhead = 64;

/** A fresh height (the paper's L1-L9 and L53); feed it `{type: "start"}` to run L10. */
export function createHeightState(
  config: CoreConfig,
  height: number,
  validators: HeightValidators,
): ConsensusState {
  invariant(Number.isSafeInteger(height) && height >= 0, "bad height", { height });
  return {
    config,
    height,
    // Addresses compare as lower-case hex everywhere in the core, whatever the source returns.
    validators: { set: validators.set, proposer: (round) => validators.proposer(round).toLowerCase() as Hex },
    round: -1,
    step: Step.Propose,
    lockedValue: null,
    lockedRound: -1,
    validValue: null,
    validRound: -1,
    proposals: new Map(),
    blocks: new Map(),
    votes: new Map(),
    done: new Set(),
    own: new Map(),
    fetching: new Set(),
    decision: null,
  };
}

/** timeoutX(r): grows linearly with the round, so a partially synchronous network catches up. */
export function timeoutFor(t: TimeoutConfig, step: TimeoutStep, round: number): number {
  switch (step) {
    case Step.Propose:
      return t.propose + round * t.proposeDelta;
    case Step.Prevote:
      return t.prevote + round * t.prevoteDelta;
    case Step.Precommit:
      return t.precommit + round * t.precommitDelta;
  }
}

/** The state machine. Pure: returns a new state; the old one stays as it was. */
export function step(state: ConsensusState, input: ConsensusInput): StepResult {
  const s: Draft = { ...state };
  const fx: Fx = [];
  switch (input.type) {
    case "start":
      invariant(s.round === -1, "start input on a started height", { height: s.height, round: s.round });
      startRound(s, fx, s.height, 0);
      break;
    case "proposal":
      if (!isMessageShape({ type: "proposal", proposal: input.proposal, block: input.block }))
        return { state, effects: [malformed(input.proposal)] };
      if (!onProposal(s, fx, input.proposal, input.block)) return { state, effects: fx };
      break;
    case "vote":
      if (!isVoteShape(input.vote)) return { state, effects: [malformed(input.vote)] };
      if (!onVote(s, fx, input.vote)) return { state, effects: fx };
      break;
    case "certificate": {
      const c = input.certificate;
      if (!isCertificateShape(c)) return { state, effects: [malformed(undefined)] };
      if (c.height !== s.height) return { state, effects: fx };
      let any = false;
      for (const sig of c.signatures) {
        const vote: Vote = {
          type: MsgType.Precommit,
          height: c.height,
          round: c.round,
          blockHash: c.blockHash,
          validator: sig.validator,
          signature: sig.signature,
        };
        if (onVote(s, fx, vote)) any = true;
      }
      if (!any) return { state, effects: fx };
      break;
    }
    case "timeout":
      if (!onTimeout(s, fx, input.height, input.round, input.step)) return { state, effects: fx };
      break;
    case "valueReady":
      if (!onValueReady(s, fx, input.height, input.round, input.block)) return { state, effects: fx };
      break;
    case "validated": {
      if (input.height !== s.height) return { state, effects: fx };
      const entry = s.blocks.get(input.blockHash);
      if (!entry || entry.valid !== undefined) return { state, effects: fx };
      const next: BlockEntry = {
        block: entry.block,
        valid: input.valid,
        ...(input.reason === undefined ? {} : { reason: input.reason }),
        ...(input.valid && input.round !== undefined ? { round: input.round } : {}),
      };
      s.blocks = new Map(s.blocks).set(input.blockHash, next);
      break;
    }
    case "block": {
      if (input.height !== s.height) return { state, effects: fx };
      const hash = input.block.hash;
      if (s.fetching.has(hash)) {
        const f = new Set(s.fetching);
        f.delete(hash);
        s.fetching = f;
      }
      const entry = s.blocks.get(hash);
      if (entry && entry.valid !== false) break;
      addBlock(s, fx, input.block);
      break;
    }
  }
  applyRules(s, fx);
  return { state: s, effects: fx };
}

/**
 * What a node restarted from its WAL must do again: ask for the signatures it had decided on
 * but not yet fed back, re-arm the timeout of its step, and re-ask the application and the
 * fetcher for answers still missing. Everything else was already in the replayed inputs.
 */
export function resumeEffects(s: ConsensusState): ConsensusEffect[] {
  const fx: Fx = [];
  if (s.decision) {
    fx.push({ type: "decide", height: s.height, ...s.decision });
    return fx;
  }
  if (s.round < 0) return fx;
  for (const [key, msg] of s.own) {
    if (msg.round !== s.round) continue; // an older round's message is of no use any more
    if ("polRound" in msg) {
      if (!s.proposals.has(msg.round)) {
        const entry = s.blocks.get(msg.blockHash);
        invariant(entry, "own proposal without its block", { key });
        fx.push({ type: "signProposal", proposal: msg, block: entry.block });
      }
    } else {
      const rv = s.votes.get(msg.round);
      const set = msg.type === MsgType.Prevote ? rv?.prevotes : rv?.precommits;
      if (!set?.voteOf(msg.validator)) fx.push({ type: "signVote", vote: msg });
    }
  }
  if (
    s.step === Step.Propose &&
    isSelfProposer(s, s.round) &&
    !s.own.has(`${s.round}:${MsgType.Proposal}`) &&
    s.validValue === null
  ) {
    fx.push({ type: "requestValue", height: s.height, round: s.round });
  }
  if (s.step === Step.Propose) schedule(s, fx, Step.Propose);
  if (s.step === Step.Prevote && s.done.has(`34:${s.round}`)) schedule(s, fx, Step.Prevote);
  if (s.done.has(`47:${s.round}`)) schedule(s, fx, Step.Precommit);
  for (const entry of s.blocks.values()) {
    if (entry.valid === undefined) fx.push({ type: "validate", height: s.height, block: entry.block });
  }
  for (const hash of s.fetching) fx.push({ type: "fetchBlock", height: s.height, blockHash: hash });
  return fx;
}

// ---------------------------------------------------------------------------------------
// Inputs

function onProposal(s: Draft, fx: Fx, p: Proposal, block: Block): boolean {
  if (p.height !== s.height) return false;
  // Decided: a late proposal (one arriving after the precommits) changes nothing, and the
  // application may no longer name this height's proposers (its schedule moved on at commit).
  if (s.decision !== null) return false;
  if (p.round > Math.max(s.round, 0) + s.config.maxRoundsAhead) return reject(fx, "roundTooFar", p.proposer);
  const expected = s.validators.proposer(p.round);
  if (p.proposer !== expected) return reject(fx, "wrongProposer", p.proposer);
  if (block.hash !== p.blockHash) return reject(fx, "blockHashMismatch", p.proposer);
  if (!Number.isInteger(p.polRound) || p.polRound < -1 || p.polRound >= p.round) {
    return reject(fx, "badPolRound", p.proposer);
  }
  const existing = s.proposals.get(p.round);
  if (existing && existing.signature === p.signature) return false;
  const val = s.validators.set.get(p.proposer);
  if (!val) return reject(fx, "unknownValidator", p.proposer);
  if (!verifyProposalSignature(p, s.config.chainId, val.publicKey, s.config.verify)) {
    return reject(fx, "badSignature", p.proposer);
  }
  if (existing) {
    if (existing.blockHash !== p.blockHash || existing.polRound !== p.polRound) {
      fx.push({
        type: "evidence",
        evidence: { type: "conflictingProposal", validator: p.proposer, a: existing, b: p },
      });
    }
    return false;
  }
  s.proposals = new Map(s.proposals).set(p.round, p);
  const entry = s.blocks.get(block.hash);
  if (!entry || (entry.valid === false && !equalBytes(entry.block.payload, block.payload)))
    addBlock(s, fx, block);
  if (p.proposer === s.config.self)
    fx.push({ type: "broadcast", message: { type: "proposal", proposal: p, block } });
  return true;
}

function onVote(s: Draft, fx: Fx, vote: Vote): boolean {
  if (vote.height !== s.height) return false;
  if (vote.round > Math.max(s.round, 0) + s.config.maxRoundsAhead)
    return reject(fx, "roundTooFar", vote.validator);
  const rv = roundVotes(s, vote.round);
  const isPrevote = vote.type === MsgType.Prevote;
  if (!isPrevote && vote.type !== MsgType.Precommit)
    return reject(fx, "wrongHeightRoundType", vote.validator);
  const { set, result } = (isPrevote ? rv.prevotes : rv.precommits).add(
    vote,
    s.config.chainId,
    s.config.verify,
  );
  switch (result.status) {
    case "added":
      s.votes = new Map(s.votes).set(
        vote.round,
        isPrevote ? { prevotes: set, precommits: rv.precommits } : { prevotes: rv.prevotes, precommits: set },
      );
      if (vote.validator === s.config.self) fx.push({ type: "broadcast", message: { type: "vote", vote } });
      return true;
    case "duplicate":
      return false;
    case "conflict":
      // Counted towards its own value (see VoteSet), and reported.
      fx.push({ type: "evidence", evidence: result.evidence });
      if (set === rv.prevotes || set === rv.precommits) return false;
      s.votes = new Map(s.votes).set(
        vote.round,
        isPrevote ? { prevotes: set, precommits: rv.precommits } : { prevotes: rv.prevotes, precommits: set },
      );
      return true;
    case "rejected":
      return reject(fx, result.reason, vote.validator);
  }
}

function onTimeout(s: Draft, fx: Fx, height: number, round: number, step: TimeoutStep): boolean {
  if (s.decision) return false;
  switch (step) {
    // L57-L60
    case Step.Propose:
      return enterPrevote(s, fx, height, round, null);
    // L61-L64
    case Step.Prevote:
      return enterPrecommit(s, fx, height, round, null);
    // L65-L67
    case Step.Precommit:
      if (height !== s.height || round !== s.round) return false;
      startRound(s, fx, height, round + 1);
      return true;
  }
}

function onValueReady(s: Draft, fx: Fx, height: number, round: number, block: Block): boolean {
  // L18-L19, answered late: only while this round's proposal is still ours to make.
  if (height !== s.height || round !== s.round || s.step !== Step.Propose || s.decision) return false;
  if (!isSelfProposer(s, round) || s.own.has(`${round}:${MsgType.Proposal}`)) return false;
  s.blocks = new Map(s.blocks).set(block.hash, { block, valid: true });
  propose(s, fx, block, -1);
  return true;
}

// ---------------------------------------------------------------------------------------
// The paper's functions

/** L11-L21 StartRound(round). */
function startRound(s: Draft, fx: Fx, height: number, round: number): void {
  invariant(height === s.height, "StartRound for another height", { height, current: s.height });
  invariant(round > s.round, "StartRound must move the round forward", { round, current: s.round });
  invariant(s.decision === null, "StartRound after the decision");
  s.round = round; // L12
  s.step = Step.Propose; // L13
  fx.push({ type: "newRound", height, round });
  if (isSelfProposer(s, round)) {
    // L14
    if (s.validValue !== null) {
      // L15-L16
      const entry = s.blocks.get(s.validValue);
      invariant(entry?.valid === true, "validValue without a valid block", { validValue: s.validValue });
      propose(s, fx, entry.block, s.validRound);
    } else {
      fx.push({ type: "requestValue", height, round }); // L18, answered by valueReady
    }
  }
  schedule(s, fx, Step.Propose); // L21 (for the proposer too, see the header)
}

/** L19: ⟨PROPOSAL, h_p, round_p, proposal, validRound_p⟩, through the signer. */
function propose(s: Draft, fx: Fx, block: Block, polRound: number): void {
  invariant(s.config.self !== null, "only a validator proposes");
  const proposal: UnsignedProposal = {
    height: s.height,
    round: s.round,
    polRound,
    blockHash: block.hash,
    proposer: s.config.self,
  };
  recordOwn(s, `${s.round}:${MsgType.Proposal}`, proposal);
  fx.push({ type: "signProposal", proposal, block });
}

/** The steps of L24/L26, L30/L32 and L59: prevote `value` and move to the prevote step. */
function enterPrevote(s: Draft, fx: Fx, height: number, round: number, value: Hex | null): boolean {
  if (height !== s.height || round !== s.round || s.step !== Step.Propose || s.decision) return false;
  if (value !== null && s.lockedRound !== -1 && s.lockedValue !== value) {
    // Only a POL (L28-L29) newer than the lock may unlock.
    const p = s.proposals.get(round);
    invariant(
      p !== undefined &&
        p.blockHash === value &&
        p.polRound >= s.lockedRound &&
        hasPolka(s, p.polRound, value),
      "prevote for a value other than the locked one without a newer POL",
      { height, round, value, lockedValue: s.lockedValue, lockedRound: s.lockedRound },
    );
  }
  vote(s, fx, MsgType.Prevote, value);
  s.step = Step.Prevote;
  return true;
}

/** The steps of L40, L45 and L63: precommit `value` and move to the precommit step. */
function enterPrecommit(s: Draft, fx: Fx, height: number, round: number, value: Hex | null): boolean {
  if (height !== s.height || round !== s.round || s.step !== Step.Prevote || s.decision) return false;
  if (value !== null)
    invariant(hasPolka(s, round, value), "precommit without a polka", { height, round, value });
  vote(s, fx, MsgType.Precommit, value);
  s.step = Step.Precommit;
  return true;
}

function vote(s: Draft, fx: Fx, type: VoteType, value: Hex | null): void {
  const self = s.config.self;
  if (self === null || s.validators.set.indexOf(self) === undefined) return; // followers do not vote
  const v: UnsignedVote = { type, height: s.height, round: s.round, blockHash: value, validator: self };
  recordOwn(s, `${s.round}:${type}`, v);
  fx.push({ type: "signVote", vote: v });
}

function recordOwn(s: Draft, key: string, msg: UnsignedVote | UnsignedProposal): void {
  const had = s.own.get(key);
  invariant(
    had === undefined ||
      (had.blockHash === msg.blockHash &&
        (!("polRound" in had) || had.polRound === (msg as UnsignedProposal).polRound)),
    "about to sign two different messages for one (height, round, step)",
    { height: s.height, key, had, msg },
  );
  if (!had) s.own = new Map(s.own).set(key, msg);
}

function decide(s: Draft, fx: Fx, round: number, block: Block): void {
  invariant(s.decision === null, "second decision for a height", { height: s.height });
  const rv = s.votes.get(round);
  invariant(rv, "decision without precommits");
  const certificate = makeCommitCertificate(rv.precommits, block.hash);
  s.decision = { round, block, certificate }; // L51
  s.step = Step.Commit;
  fx.push({ type: "decide", height: s.height, round, block, certificate });
}

// ---------------------------------------------------------------------------------------
// The upon-rules, evaluated after every input until none fires.

function applyRules(s: Draft, fx: Fx): void {
  for (let i = 0; ; i++) {
    invariant(i < 10_000, "rule evaluation does not settle");
    if (s.decision !== null || s.round < 0) return;
    const fired =
      ruleDecide(s, fx) ||
      ruleRoundSkip(s, fx) ||
      ruleProposal(s, fx) ||
      rulePrevoteWait(s, fx) ||
      rulePolka(s, fx) ||
      ruleNilPolka(s, fx) ||
      ruleNilCommitSkip(s, fx) ||
      rulePrecommitWait(s, fx);
    if (!fired) return;
  }
}

/** L49-L54: +2/3 precommits for id(v) in any round, and v valid: decide. */
function ruleDecide(s: Draft, fx: Fx): boolean {
  for (const [round, rv] of s.votes) {
    const v = rv.precommits.twoThirdsMajority();
    if (v === undefined || v === null) continue;
    const entry = s.blocks.get(v);
    if (!entry || entry.valid === false) {
      // Catch-up: the quorum is there, the block is not (or its payload did not check out).
      if (s.fetching.has(v)) continue;
      s.fetching = new Set(s.fetching).add(v);
      fx.push({ type: "fetchBlock", height: s.height, blockHash: v });
      return true;
    }
    if (entry.valid === undefined) continue; // waiting for valid(v)
    if (!builtBy(entry, round)) continue; // a quorum for a block of a later round: not ours to decide
    decide(s, fx, round, entry.block);
    return true;
  }
  return false;
}

/** L55-L56: f+1 of the power sent messages of a higher round: go there. */
function ruleRoundSkip(s: Draft, fx: Fx): boolean {
  let target = -1;
  for (const [round, rv] of s.votes) {
    if (round <= s.round || round <= target) continue;
    let power = 0;
    s.validators.set.validators.forEach((val, i) => {
      if (rv.prevotes.hasVoteAt(i) || rv.precommits.hasVoteAt(i)) power += val.power;
    });
    if (s.validators.set.hasOneThird(power)) target = round;
  }
  if (target < 0) return false;
  startRound(s, fx, s.height, target);
  return true;
}

/** L22-L27 and L28-L33: the proposal of this round, in the propose step. */
function ruleProposal(s: Draft, fx: Fx): boolean {
  if (s.step !== Step.Propose) return false;
  const p = s.proposals.get(s.round);
  if (!p) return false;
  const entry = s.blocks.get(p.blockHash);
  if (!entry || entry.valid === undefined) return false;
  const v = p.blockHash;
  if (p.polRound === -1) {
    // L23; a fresh proposal must be of a block built for this very round
    const ok =
      entry.valid &&
      (entry.round === undefined || entry.round === s.round) &&
      (s.lockedRound === -1 || s.lockedValue === v);
    return enterPrevote(s, fx, s.height, s.round, ok ? v : null);
  }
  if (p.polRound >= 0 && p.polRound < s.round && hasPolka(s, p.polRound, v)) {
    // L29; the re-proposed block was built at or before its POL round
    const ok =
      entry.valid && builtBy(entry, p.polRound) && (s.lockedRound <= p.polRound || s.lockedValue === v);
    return enterPrevote(s, fx, s.height, s.round, ok ? v : null);
  }
  return false;
}

/** L34-L35: +2/3 prevotes of any kind, first time in this round: arm timeoutPrevote. */
function rulePrevoteWait(s: Draft, fx: Fx): boolean {
  const key = `34:${s.round}`;
  if (s.step !== Step.Prevote || s.done.has(key)) return false;
  if (!s.votes.get(s.round)?.prevotes.hasTwoThirdsAny()) return false;
  s.done = new Set(s.done).add(key);
  schedule(s, fx, Step.Prevote);
  return true;
}

/** L36-L43: proposal v and +2/3 prevotes for id(v) in this round, v valid, first time. */
function rulePolka(s: Draft, fx: Fx): boolean {
  const key = `36:${s.round}`;
  if (s.step < Step.Prevote || s.done.has(key)) return false;
  const p = s.proposals.get(s.round);
  const entry = p && s.blocks.get(p.blockHash);
  if (!p || entry?.valid !== true || !builtBy(entry, s.round) || !hasPolka(s, s.round, p.blockHash))
    return false;
  s.done = new Set(s.done).add(key);
  if (s.step === Step.Prevote) {
    s.lockedValue = p.blockHash; // L38
    s.lockedRound = s.round; // L39
    enterPrecommit(s, fx, s.height, s.round, p.blockHash); // L40-L41
  }
  s.validValue = p.blockHash; // L42
  s.validRound = s.round; // L43
  return true;
}

/** L44-L46: +2/3 prevotes for nil: precommit nil. */
function ruleNilPolka(s: Draft, fx: Fx): boolean {
  if (s.step !== Step.Prevote) return false;
  if (!s.votes.get(s.round)?.prevotes.hasTwoThirdsFor(null)) return false;
  return enterPrecommit(s, fx, s.height, s.round, null);
}

/**
 * +2/3 precommits for nil in this round: no value can be decided in it, so go to the next round
 * now instead of after timeoutPrecommit (L47, L65). Round changes bound liveness, never safety.
 */
function ruleNilCommitSkip(s: Draft, fx: Fx): boolean {
  if (!s.votes.get(s.round)?.precommits.hasTwoThirdsFor(null)) return false;
  startRound(s, fx, s.height, s.round + 1);
  return true;
}

/** L47-L48: +2/3 precommits of any kind, first time in this round: arm timeoutPrecommit. */
function rulePrecommitWait(s: Draft, fx: Fx): boolean {
  const key = `47:${s.round}`;
  if (s.done.has(key)) return false;
  if (!s.votes.get(s.round)?.precommits.hasTwoThirdsAny()) return false;
  s.done = new Set(s.done).add(key);
  schedule(s, fx, Step.Precommit);
  return true;
}

// ---------------------------------------------------------------------------------------
// Helpers

/** Whether the block may be locked or decided in `round`: it was built then or before. */
function builtBy(entry: BlockEntry, round: number): boolean {
  return entry.round === undefined || entry.round <= round;
}

function malformed(from: unknown): ConsensusEffect {
  const o = from as { validator?: unknown; proposer?: unknown } | null | undefined;
  const who =
    typeof o?.validator === "string" ? o.validator : typeof o?.proposer === "string" ? o.proposer : undefined;
  return { type: "rejected", reason: "malformed", from: who as Hex | undefined };
}

function hasPolka(s: ConsensusState, round: number, value: Hex): boolean {
  return s.votes.get(round)?.prevotes.hasTwoThirdsFor(value) === true;
}

function isSelfProposer(s: ConsensusState, round: number): boolean {
  return s.config.self !== null && s.validators.proposer(round) === s.config.self;
}

function roundVotes(s: ConsensusState, round: number): RoundVotes {
  const rv = s.votes.get(round);
  if (rv) return rv;
  const set = s.validators.set;
  return {
    prevotes: VoteSet.empty(s.height, round, MsgType.Prevote, set),
    precommits: VoteSet.empty(s.height, round, MsgType.Precommit, set),
  };
}

function addBlock(s: Draft, fx: Fx, block: Block): void {
  s.blocks = new Map(s.blocks).set(block.hash, { block, valid: undefined });
  fx.push({ type: "validate", height: s.height, block });
}

function schedule(s: ConsensusState, fx: Fx, step: TimeoutStep): void {
  fx.push({
    type: "scheduleTimeout",
    height: s.height,
    round: s.round,
    step,
    ms: timeoutFor(s.config.timeouts, step, s.round),
  });
}

function reject(fx: Fx, reason: RejectReason, from: Hex | undefined): false {
  fx.push({ type: "rejected", reason, from });
  return false;
}
