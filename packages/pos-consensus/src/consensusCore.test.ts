import { describe, expect, it } from "vitest";
import {
  CHAIN_ID,
  certificateOf,
  coreConfig,
  makeBlock,
  makeValidators,
  roundRobin,
  signProposal,
  signVote,
  votesOf,
} from "../test/fixtures.ts";
import { verifyCommitCertificate } from "./commitCertificate.ts";
import {
  type ConsensusEffect,
  type ConsensusInput,
  ConsensusInvariantError,
  type ConsensusState,
  createHeightState,
  resumeEffects,
  step,
} from "./consensusCore.ts";
import { verifySignature } from "./signer.ts";
import { type Block, defaultTimeouts, MsgType, Step } from "./types.ts";

// Four validators of power 1: quorum is 3, f + 1 is 2. Round-robin proposer: proposer(1, r) is
// validator (1 + r) mod 4, so validator 0 ("me") proposes in round 3 of height 1.
const tv = makeValidators(4);
const H = 1;
const ME = 0;
const me = tv.addresses[ME]!;
const proposerOf = (round: number) => (H + round) % 4;

class Node {
  state: ConsensusState;
  effects: ConsensusEffect[] = [];
  constructor(self = me) {
    this.state = createHeightState(coreConfig(self), H, roundRobin(tv.set, H));
  }
  feed(input: ConsensusInput): ConsensusEffect[] {
    const r = step(this.state, input);
    this.state = r.state;
    this.effects.push(...r.effects);
    return r.effects;
  }
  /** Signs the node's own sign requests and feeds them back, as the driver does. */
  feedOwn(effects: ConsensusEffect[]): ConsensusEffect[] {
    const out: ConsensusEffect[] = [];
    for (const e of effects) {
      if (e.type === "signVote") {
        const v = e.vote;
        out.push(
          ...this.feed({
            type: "vote",
            vote: signVote(tv.keys[ME]!, me, v.type, v.height, v.round, v.blockHash),
          }),
        );
      } else if (e.type === "signProposal") {
        const p = e.proposal;
        const proposal = signProposal(tv.keys[ME]!, me, p.height, p.round, p.polRound, p.blockHash);
        out.push(...this.feed({ type: "proposal", proposal, block: e.block }));
      }
    }
    return out;
  }
  proposal(round: number, block: Block, polRound = -1): ConsensusEffect[] {
    const i = proposerOf(round);
    const proposal = signProposal(tv.keys[i]!, tv.addresses[i]!, H, round, polRound, block.hash);
    return this.feed({ type: "proposal", proposal, block });
  }
  validated(block: Block, valid = true): ConsensusEffect[] {
    return this.feed({ type: "validated", height: H, blockHash: block.hash, valid });
  }
  votes(who: number[], type: 1 | 2, round: number, hash: `0x${string}` | null): ConsensusEffect[] {
    const out: ConsensusEffect[] = [];
    for (const vote of votesOf(tv, who, type, H, round, hash)) out.push(...this.feed({ type: "vote", vote }));
    return out;
  }
}

const signs = (fx: ConsensusEffect[]) =>
  fx.filter((e) => e.type === "signVote").map((e) => (e.type === "signVote" ? e.vote : undefined)!);
const timeouts = (fx: ConsensusEffect[]) => fx.filter((e) => e.type === "scheduleTimeout");

describe("consensus core: the rules of the paper", () => {
  const A = makeBlock("block A");
  const B = makeBlock("block B");

  it("L10-L21: start schedules timeoutPropose for a non-proposer", () => {
    const n = new Node();
    const fx = n.feed({ type: "start" });
    expect(fx).toContainEqual({ type: "newRound", height: H, round: 0 });
    expect(timeouts(fx)).toEqual([
      { type: "scheduleTimeout", height: H, round: 0, step: Step.Propose, ms: defaultTimeouts.propose },
    ]);
    expect(fx.some((e) => e.type === "requestValue")).toBe(false);
    expect(n.state.step).toBe(Step.Propose);
  });

  it("happy path: L22 prevote, L36 lock and precommit, L49 decide with a verifiable certificate", () => {
    const n = new Node();
    n.feed({ type: "start" });
    const fx1 = n.proposal(0, A);
    expect(fx1).toContainEqual({ type: "validate", height: H, block: A });
    expect(signs(fx1)).toEqual([]); // valid(v) not known yet
    const fx2 = n.validated(A);
    expect(signs(fx2)).toEqual([
      { type: MsgType.Prevote, height: H, round: 0, blockHash: A.hash, validator: me },
    ]);
    expect(n.state.step).toBe(Step.Prevote);
    const fx3 = n.feedOwn(fx2);
    expect(fx3.some((e) => e.type === "broadcast" && e.message.type === "vote")).toBe(true);
    const fx4 = n.votes([1, 2], MsgType.Prevote, 0, A.hash);
    expect(signs(fx4)).toEqual([
      { type: MsgType.Precommit, height: H, round: 0, blockHash: A.hash, validator: me },
    ]);
    expect(n.state.lockedValue).toBe(A.hash);
    expect(n.state.lockedRound).toBe(0);
    expect(n.state.validValue).toBe(A.hash);
    n.feedOwn(fx4);
    const fx5 = n.votes([2, 3], MsgType.Precommit, 0, A.hash);
    const decide = fx5.find((e) => e.type === "decide");
    expect(decide?.type === "decide" && decide.block.hash).toBe(A.hash);
    expect(n.state.step).toBe(Step.Commit);
    if (decide?.type !== "decide") throw new Error("no decision");
    expect(decide.certificate.signatures).toHaveLength(3);
    expect(verifyCommitCertificate(decide.certificate, tv.set, CHAIN_ID, verifySignature)).toEqual({
      ok: true,
      power: 3,
    });
    // Decided: later inputs change nothing and never decide twice.
    const after = n.votes([1], MsgType.Precommit, 0, A.hash);
    expect(after.some((e) => e.type === "decide")).toBe(false);
  });

  it("decided: a late proposal is ignored without asking for its proposer (the schedule moved on)", () => {
    const n = new Node();
    const rr = roundRobin(tv.set, H);
    let moved = false;
    n.state = createHeightState(coreConfig(me), H, {
      set: rr.set,
      proposer: (round) => {
        if (moved) throw new Error("no proposer known for this height and round");
        return rr.proposer(round);
      },
    });
    n.feed({ type: "start" });
    n.proposal(0, A);
    n.feedOwn(n.validated(A));
    n.feedOwn(n.votes([1, 2], MsgType.Prevote, 0, A.hash));
    expect(n.votes([2, 3], MsgType.Precommit, 0, A.hash).some((e) => e.type === "decide")).toBe(true);
    moved = true; // the application committed the height: its schedule is at the next one
    const i = proposerOf(1);
    const late = signProposal(tv.keys[i]!, tv.addresses[i]!, H, 1, -1, B.hash);
    expect(n.feed({ type: "proposal", proposal: late, block: B })).toEqual([]);
    expect(n.state.decision?.block.hash).toBe(A.hash);
  });

  it("L22-L26: an invalid block gets a nil prevote", () => {
    const n = new Node();
    n.feed({ type: "start" });
    n.proposal(0, A);
    const fx = n.validated(A, false);
    expect(signs(fx)).toEqual([
      { type: MsgType.Prevote, height: H, round: 0, blockHash: null, validator: me },
    ]);
  });

  it("L44-L46: +2/3 nil prevotes give a nil precommit", () => {
    const n = new Node();
    n.feed({ type: "start" });
    n.feedOwn(n.feed({ type: "timeout", height: H, round: 0, step: Step.Propose }));
    const fx = n.votes([1, 2], MsgType.Prevote, 0, null);
    expect(signs(fx)).toEqual([
      { type: MsgType.Precommit, height: H, round: 0, blockHash: null, validator: me },
    ]);
    expect(n.state.lockedRound).toBe(-1);
  });

  it("timeouts: propose -> nil prevote; L34 prevote wait -> nil precommit; L47 precommit wait -> next round, growing", () => {
    const n = new Node();
    n.feed({ type: "start" });
    // A stale timeout is ignored (L58's guard).
    expect(n.feed({ type: "timeout", height: H, round: 5, step: Step.Propose })).toEqual([]);
    const fx1 = n.feed({ type: "timeout", height: H, round: 0, step: Step.Propose });
    expect(signs(fx1)).toEqual([
      { type: MsgType.Prevote, height: H, round: 0, blockHash: null, validator: me },
    ]);
    n.feedOwn(fx1);
    // Mixed prevotes: +2/3 of any kind, no value has +2/3.
    const fx2 = n.votes([1], MsgType.Prevote, 0, A.hash);
    expect(timeouts(fx2)).toEqual([]);
    const fx3 = n.votes([2], MsgType.Prevote, 0, B.hash);
    expect(timeouts(fx3)).toEqual([
      { type: "scheduleTimeout", height: H, round: 0, step: Step.Prevote, ms: defaultTimeouts.prevote },
    ]);
    const fx4 = n.feed({ type: "timeout", height: H, round: 0, step: Step.Prevote });
    expect(signs(fx4)).toEqual([
      { type: MsgType.Precommit, height: H, round: 0, blockHash: null, validator: me },
    ]);
    n.feedOwn(fx4);
    const fx5 = n.votes([1, 2], MsgType.Precommit, 0, A.hash);
    expect(timeouts(fx5)).toEqual([
      { type: "scheduleTimeout", height: H, round: 0, step: Step.Precommit, ms: defaultTimeouts.precommit },
    ]);
    expect(fx5.some((e) => e.type === "decide")).toBe(false); // 2 of 4 for A is not +2/3
    const fx6 = n.feed({ type: "timeout", height: H, round: 0, step: Step.Precommit });
    expect(fx6).toContainEqual({ type: "newRound", height: H, round: 1 });
    expect(timeouts(fx6)).toEqual([
      {
        type: "scheduleTimeout",
        height: H,
        round: 1,
        step: Step.Propose,
        ms: defaultTimeouts.propose + defaultTimeouts.proposeDelta,
      },
    ]);
    expect(n.state.round).toBe(1);
  });

  /** Drives `n` to lock on A in round 0 without deciding, then into round 1. */
  function lockedOnAInRound0(): Node {
    const n = new Node();
    n.feed({ type: "start" });
    n.proposal(0, A);
    n.feedOwn(n.validated(A));
    n.feedOwn(n.votes([1, 2], MsgType.Prevote, 0, A.hash));
    expect(n.state.lockedValue).toBe(A.hash);
    n.votes([1, 2], MsgType.Precommit, 0, null);
    n.feed({ type: "timeout", height: H, round: 0, step: Step.Precommit });
    expect(n.state.round).toBe(1);
    return n;
  }

  it("lock: a node locked on A prevotes nil for a new proposal B without POL (L23)", () => {
    const n = lockedOnAInRound0();
    n.proposal(1, B);
    const fx = n.validated(B);
    expect(signs(fx)).toEqual([
      { type: MsgType.Prevote, height: H, round: 1, blockHash: null, validator: me },
    ]);
    expect(n.state.lockedValue).toBe(A.hash);
  });

  it("lock: the locked value proposed again gets a prevote (L23 lockedValue = v)", () => {
    const n = lockedOnAInRound0();
    const fx = n.proposal(1, A, 0);
    expect(signs(fx)).toEqual([
      { type: MsgType.Prevote, height: H, round: 1, blockHash: A.hash, validator: me },
    ]);
  });

  it("unlock by POL: B with a newer polka (vr >= lockedRound) gets a prevote (L28-L30), then the lock moves", () => {
    const n = lockedOnAInRound0();
    // Round 1: others saw a polka for B that this node missed (it prevoted nil).
    n.feedOwn(n.feed({ type: "timeout", height: H, round: 1, step: Step.Propose }));
    n.votes([1, 2, 3], MsgType.Prevote, 1, B.hash);
    expect(n.state.lockedValue).toBe(A.hash); // no proposal for B in round 1 seen: no lock change
    n.feedOwn(n.votes([1, 2], MsgType.Precommit, 1, null));
    n.feed({ type: "timeout", height: H, round: 1, step: Step.Precommit });
    expect(n.state.round).toBe(2);
    // Round 2: proposal of B with polRound 1; the +2/3 prevotes of round 1 unlock.
    n.proposal(2, B, 1);
    const fx = n.validated(B);
    expect(signs(fx)).toEqual([
      { type: MsgType.Prevote, height: H, round: 2, blockHash: B.hash, validator: me },
    ]);
    n.feedOwn(fx);
    const fx2 = n.votes([1, 3], MsgType.Prevote, 2, B.hash);
    expect(signs(fx2)).toEqual([
      { type: MsgType.Precommit, height: H, round: 2, blockHash: B.hash, validator: me },
    ]);
    expect(n.state.lockedValue).toBe(B.hash);
    expect(n.state.lockedRound).toBe(2);
  });

  it("a proposal claiming a POL that does not exist waits for timeoutPropose", () => {
    const n = lockedOnAInRound0();
    n.votes([3], MsgType.Prevote, 0, B.hash); // one vote for B: no POL
    const fx = n.proposal(1, B, 0);
    expect(signs(fx)).toEqual([]);
    const fx2 = n.feed({ type: "timeout", height: H, round: 1, step: Step.Propose });
    expect(signs(fx2)[0]?.blockHash).toBeNull();
  });

  it("a POL older than the lock does not unlock (L29: lockedRound > vr and lockedValue != v)", () => {
    const n = new Node();
    n.feed({ type: "start" });
    // Round 0: a polka for B that this node saw only as votes (no proposal): no lock.
    n.feedOwn(n.feed({ type: "timeout", height: H, round: 0, step: Step.Propose }));
    n.votes([1, 2, 3], MsgType.Prevote, 0, B.hash);
    n.feedOwn(n.feed({ type: "timeout", height: H, round: 0, step: Step.Prevote }));
    n.votes([1, 2], MsgType.Precommit, 0, null);
    n.feed({ type: "timeout", height: H, round: 0, step: Step.Precommit });
    // Round 1: lock on A.
    n.proposal(1, A);
    n.feedOwn(n.validated(A));
    n.feedOwn(n.votes([1, 2], MsgType.Prevote, 1, A.hash));
    expect(n.state.lockedRound).toBe(1);
    n.votes([1, 2], MsgType.Precommit, 1, null);
    n.feed({ type: "timeout", height: H, round: 1, step: Step.Precommit });
    // Round 2: B with its (older) round-0 POL.
    n.proposal(2, B, 0);
    const fx = n.validated(B);
    expect(signs(fx)).toEqual([
      { type: MsgType.Prevote, height: H, round: 2, blockHash: null, validator: me },
    ]);
    expect(n.state.lockedValue).toBe(A.hash);
  });

  it("L55: f+1 power of messages from a higher round makes the node skip to it", () => {
    const n = new Node();
    n.feed({ type: "start" });
    expect(n.votes([1], MsgType.Prevote, 3, null).some((e) => e.type === "newRound")).toBe(false);
    const fx = n.votes([2], MsgType.Precommit, 3, null);
    expect(fx).toContainEqual({ type: "newRound", height: H, round: 3 });
    expect(n.state.round).toBe(3);
    // Round 3 of height 1 is this node's to propose: it asks the application for a value.
    expect(fx).toContainEqual({ type: "requestValue", height: H, round: 3 });
  });

  it("proposer: getValue through valueReady; validValue is proposed again with its round (L15-L16)", () => {
    const n = new Node();
    n.feed({ type: "start" });
    // Round 0: polka for A seen (validValue = A, and locked), no decision.
    n.proposal(0, A);
    n.feedOwn(n.validated(A));
    n.feedOwn(n.votes([1, 2], MsgType.Prevote, 0, A.hash));
    expect(n.state.validValue).toBe(A.hash);
    n.votes([1, 2], MsgType.Precommit, 0, null);
    // Jump to round 3 where this node proposes.
    n.votes([1, 2], MsgType.Prevote, 3, null);
    const prop = n.effects.filter((e) => e.type === "signProposal");
    expect(prop).toHaveLength(1);
    expect(prop[0]?.type === "signProposal" && prop[0].proposal).toEqual({
      height: H,
      round: 3,
      polRound: 0,
      blockHash: A.hash,
      proposer: me,
    });
  });

  it("proposer with no validValue proposes what the application made", () => {
    // Validator 1 proposes round 0 of height 1.
    const self = tv.addresses[1]!;
    const n = new Node(self);
    const fx = n.feed({ type: "start" });
    expect(fx).toContainEqual({ type: "requestValue", height: H, round: 0 });
    const fx2 = n.feed({ type: "valueReady", height: H, round: 0, block: A });
    expect(fx2).toContainEqual({
      type: "signProposal",
      proposal: { height: H, round: 0, polRound: -1, blockHash: A.hash, proposer: self },
      block: A,
    });
    // A late second answer is ignored: one proposal per round.
    expect(n.feed({ type: "valueReady", height: H, round: 0, block: B })).toEqual([]);
  });

  it("vote sets reject bad signatures, unknown validators, proposals from the wrong proposer; duplicates are no-ops", () => {
    const n = new Node();
    n.feed({ type: "start" });
    const good = signVote(tv.keys[1]!, tv.addresses[1]!, MsgType.Prevote, H, 0, A.hash);
    const forged = { ...good, validator: tv.addresses[2]! };
    expect(n.feed({ type: "vote", vote: forged })).toContainEqual({
      type: "rejected",
      reason: "badSignature",
      from: tv.addresses[2],
    });
    const stranger = makeValidators(1, 99);
    const unknown = signVote(stranger.keys[0]!, stranger.addresses[0]!, MsgType.Prevote, H, 0, A.hash);
    expect(n.feed({ type: "vote", vote: unknown })).toContainEqual({
      type: "rejected",
      reason: "unknownValidator",
      from: stranger.addresses[0],
    });
    n.feed({ type: "vote", vote: good });
    const before = n.state;
    expect(n.feed({ type: "vote", vote: good })).toEqual([]);
    expect(n.state).toBe(before);
    const wrong = signProposal(tv.keys[2]!, tv.addresses[2]!, H, 0, -1, A.hash);
    expect(n.feed({ type: "proposal", proposal: wrong, block: A })).toContainEqual({
      type: "rejected",
      reason: "wrongProposer",
      from: tv.addresses[2],
    });
    expect(n.state.votes.get(0)?.prevotes.sum).toBe(1);
  });

  it("equivocation: a second different vote or proposal becomes evidence; the vote counts only for its value", () => {
    const n = new Node();
    n.feed({ type: "start" });
    n.votes([1], MsgType.Prevote, 0, A.hash);
    const fx = n.votes([1], MsgType.Prevote, 0, B.hash);
    const ev = fx.find((e) => e.type === "evidence");
    expect(ev?.type === "evidence" && ev.evidence.type).toBe("duplicateVote");
    const prevotes = n.state.votes.get(0)?.prevotes;
    expect(prevotes?.powerFor(B.hash)).toBe(1);
    expect(prevotes?.powerFor(A.hash)).toBe(1);
    expect(prevotes?.sum).toBe(1); // one validator, whatever it signed
    expect(prevotes?.voteOf(tv.addresses[1]!)?.blockHash).toBe(A.hash);
    // The same conflicting vote again is a duplicate, not new evidence.
    expect(n.votes([1], MsgType.Prevote, 0, B.hash).some((e) => e.type === "evidence")).toBe(false);
    n.proposal(0, A);
    const fx2 = n.proposal(0, B);
    const ev2 = fx2.find((e) => e.type === "evidence");
    expect(ev2?.type === "evidence" && ev2.evidence.type).toBe("conflictingProposal");
    expect(n.state.proposals.get(0)?.blockHash).toBe(A.hash);
  });

  it("catch-up: a certificate for an unknown block asks for it; the fetched block is validated, then decided", () => {
    const n = new Node();
    n.feed({ type: "start" });
    const cert = certificateOf(tv, [1, 2, 3], H, 0, A.hash);
    const fx = n.feed({ type: "certificate", certificate: cert });
    expect(fx).toContainEqual({ type: "fetchBlock", height: H, blockHash: A.hash });
    const fx2 = n.feed({ type: "block", height: H, block: A });
    expect(fx2).toContainEqual({ type: "validate", height: H, block: A });
    const fx3 = n.validated(A);
    const d = fx3.find((e) => e.type === "decide");
    expect(d?.type === "decide" && d.block.hash).toBe(A.hash);
  });

  it("is pure: stepping never changes the state it was given", () => {
    const n = new Node();
    n.feed({ type: "start" });
    n.proposal(0, A);
    const snapshot = n.state;
    const votesBefore = snapshot.votes;
    const r = step(snapshot, { type: "validated", height: H, blockHash: A.hash, valid: true });
    expect(r.state).not.toBe(snapshot);
    expect(snapshot.step).toBe(Step.Propose);
    expect(snapshot.blocks.get(A.hash)?.valid).toBeUndefined();
    expect(snapshot.votes).toBe(votesBefore);
    // Same input on the same state: same result.
    const r2 = step(snapshot, { type: "validated", height: H, blockHash: A.hash, valid: true });
    expect(r2.effects).toEqual(r.effects);
  });

  it("resume after a restart re-asks for the vote it had decided on but not yet signed", () => {
    const n = new Node();
    n.feed({ type: "start" });
    n.proposal(0, A);
    n.validated(A); // signVote(prevote A) asked, never fed back: the "crash" point
    const fx = resumeEffects(n.state);
    expect(signs(fx)).toEqual([
      { type: MsgType.Prevote, height: H, round: 0, blockHash: A.hash, validator: me },
    ]);
  });

  it("halts loudly on a broken invariant", () => {
    const n = new Node();
    n.feed({ type: "start" });
    expect(() => n.feed({ type: "start" })).toThrow(ConsensusInvariantError);
  });
});
