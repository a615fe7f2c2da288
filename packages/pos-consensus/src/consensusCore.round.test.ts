import { describe, expect, it } from "vitest";
import {
  certificateOf,
  coreConfig,
  makeBlock,
  makeValidators,
  roundRobin,
  signProposal,
  signVote,
  votesOf,
} from "../test/fixtures.ts";
import {
  type ConsensusEffect,
  type ConsensusInput,
  type ConsensusState,
  createHeightState,
  step,
} from "./consensusCore.ts";
import { type Block, type CommitCertificate, MsgType, Step, type Vote } from "./types.ts";

// Four validators of power 1, round-robin: proposer(1, r) is validator (1 + r) mod 4. The
// node under test is validator 0.
const tv = makeValidators(4);
const H = 1;
const ME = 0;
const me = tv.addresses[ME]!;
const proposerOf = (round: number) => (H + round) % 4;

class Node {
  state: ConsensusState = createHeightState(coreConfig(me), H, roundRobin(tv.set, H));
  feed(input: ConsensusInput): ConsensusEffect[] {
    const r = step(this.state, input);
    this.state = r.state;
    return r.effects;
  }
  /** Signs and feeds back the node's own votes, as the driver does. */
  feedOwn(effects: ConsensusEffect[]): ConsensusEffect[] {
    const out: ConsensusEffect[] = [];
    for (const e of effects) {
      if (e.type !== "signVote") continue;
      const v = e.vote;
      out.push(
        ...this.feed({
          type: "vote",
          vote: signVote(tv.keys[ME]!, me, v.type, v.height, v.round, v.blockHash),
        }),
      );
    }
    return out;
  }
  proposal(round: number, block: Block, polRound = -1): ConsensusEffect[] {
    const i = proposerOf(round);
    const proposal = signProposal(tv.keys[i]!, tv.addresses[i]!, H, round, polRound, block.hash);
    return this.feed({ type: "proposal", proposal, block });
  }
  validated(block: Block, round?: number): ConsensusEffect[] {
    return this.feed({
      type: "validated",
      height: H,
      blockHash: block.hash,
      valid: true,
      ...(round === undefined ? {} : { round }),
    });
  }
  votes(who: number[], type: 1 | 2, round: number, hash: `0x${string}` | null): ConsensusEffect[] {
    const out: ConsensusEffect[] = [];
    for (const vote of votesOf(tv, who, type, H, round, hash)) out.push(...this.feed({ type: "vote", vote }));
    return out;
  }
  /** Times out round `r` entirely (nil prevote, nil precommit) and moves to r + 1. */
  skipRound(r: number): void {
    this.feedOwn(this.feed({ type: "timeout", height: H, round: r, step: Step.Propose }));
    this.feedOwn(this.votes([1, 2, 3], MsgType.Prevote, r, null));
    this.feedOwn(this.votes([1, 2, 3], MsgType.Precommit, r, null));
    this.feed({ type: "timeout", height: H, round: r, step: Step.Precommit });
  }
}

const prevotes = (fx: ConsensusEffect[]) =>
  fx.flatMap((e) => (e.type === "signVote" && e.vote.type === MsgType.Prevote ? [e.vote.blockHash] : []));
const precommits = (fx: ConsensusEffect[]) =>
  fx.flatMap((e) => (e.type === "signVote" && e.vote.type === MsgType.Precommit ? [e.vote.blockHash] : []));

describe("consensus core: the round a block was built for (ADR 0055)", () => {
  const A = makeBlock("built for round 5");
  const B = makeBlock("built for round 0");

  it("a fresh proposal (vr = -1) in round 1 of a block built for round 5 gets a nil prevote", () => {
    const n = new Node();
    n.feed({ type: "start" });
    n.skipRound(0);
    expect(n.state.round).toBe(1);
    n.proposal(1, A);
    expect(prevotes(n.validated(A, 5))).toEqual([null]);
  });

  it("a fresh proposal of a block built for its own round gets a prevote; no round keeps the paper's rule", () => {
    const n = new Node();
    n.feed({ type: "start" });
    n.skipRound(0);
    n.proposal(1, A);
    expect(prevotes(n.validated(A, 1))).toEqual([A.hash]);
    const m = new Node();
    m.feed({ type: "start" });
    m.proposal(0, B);
    expect(prevotes(m.validated(B))).toEqual([B.hash]);
  });

  it("a re-proposal in round 2 (polRound 1) of a block built for round 0 is accepted", () => {
    const n = new Node();
    n.feed({ type: "start" });
    n.skipRound(0);
    // Round 1: the others prevoted B (built in round 0); this node did not see a proposal.
    n.feedOwn(n.feed({ type: "timeout", height: H, round: 1, step: Step.Propose }));
    n.votes([1, 2, 3], MsgType.Prevote, 1, B.hash);
    n.feedOwn(n.votes([1, 2, 3], MsgType.Precommit, 1, null));
    n.feed({ type: "timeout", height: H, round: 1, step: Step.Precommit });
    expect(n.state.round).toBe(2);
    n.proposal(2, B, 1);
    const fx = n.validated(B, 0);
    expect(prevotes(fx)).toEqual([B.hash]);
    // ... then locks and precommits it in round 2 (built in round 0 <= 2).
    n.feedOwn(fx);
    expect(precommits(n.votes([1, 2], MsgType.Prevote, 2, B.hash))).toEqual([B.hash]);
    expect(n.state.lockedRound).toBe(2);
  });

  it("a re-proposal whose block was built after its POL round gets a nil prevote", () => {
    const n = new Node();
    n.feed({ type: "start" });
    n.skipRound(0);
    n.feedOwn(n.feed({ type: "timeout", height: H, round: 1, step: Step.Propose }));
    n.votes([1, 2, 3], MsgType.Prevote, 1, A.hash);
    n.feedOwn(n.votes([1, 2, 3], MsgType.Precommit, 1, null));
    n.feed({ type: "timeout", height: H, round: 1, step: Step.Precommit });
    n.proposal(2, A, 1);
    expect(prevotes(n.validated(A, 2))).toEqual([null]);
  });

  it("L36: no lock and no precommit in round r for a block built for a later round", () => {
    const n = new Node();
    n.feed({ type: "start" });
    // Round 0: proposal of a block built for round 5; this node prevotes nil, the others (f+1
    // faulty in this test) prevote it.
    n.proposal(0, A);
    n.feedOwn(n.validated(A, 5));
    const fx = n.votes([1, 2, 3], MsgType.Prevote, 0, A.hash);
    expect(precommits(fx)).toEqual([]);
    expect(n.state.lockedRound).toBe(-1);
    expect(n.state.validValue).toBeNull();
  });

  it("L49: a certificate of round c for a block built for a later round decides nothing; of round >= built, it decides", () => {
    const n = new Node();
    n.feed({ type: "start" });
    n.feed({ type: "certificate", certificate: certificateOf(tv, [1, 2, 3], H, 0, A.hash) });
    n.feed({ type: "block", height: H, block: A });
    const fx = n.validated(A, 5);
    expect(fx.some((e) => e.type === "decide")).toBe(false);
    expect(n.state.decision).toBeNull();
    const m = new Node();
    m.feed({ type: "start" });
    m.feed({ type: "certificate", certificate: certificateOf(tv, [1, 2, 3], H, 7, A.hash) });
    m.feed({ type: "block", height: H, block: A });
    expect(m.validated(A, 5).some((e) => e.type === "decide")).toBe(true);
  });
});

describe("consensus core: inputs of a shape the network cannot produce", () => {
  it("a certificate with an empty signature entry, or a vote with missing fields, is rejected, not thrown on", () => {
    const n = new Node();
    n.feed({ type: "start" });
    const bad = [
      {
        type: "certificate",
        certificate: {
          height: H,
          round: 0,
          blockHash: makeBlock("x").hash,
          signatures: [{}],
        } as unknown as CommitCertificate,
      },
      { type: "certificate", certificate: { height: H } as unknown as CommitCertificate },
      { type: "vote", vote: { type: MsgType.Prevote, height: H, round: 0 } as unknown as Vote },
      { type: "vote", vote: null as unknown as Vote },
      {
        type: "proposal",
        proposal: { height: H, round: 0 } as never,
        block: { hash: "0x00", payload: new Uint8Array() } as never,
      },
    ] as ConsensusInput[];
    for (const input of bad) {
      const before = n.state;
      const fx = n.feed(input);
      expect(fx).toEqual([expect.objectContaining({ type: "rejected", reason: "malformed" })]);
      expect(n.state).toBe(before);
    }
  });
});

describe("consensus core: +2/3 nil precommits end the round at once (ADR 0194)", () => {
  const A = makeBlock("a block some precommitted");

  it("three nil precommits of four move to round 1 without timeoutPrecommit, and round 1 starts its propose timeout", () => {
    const n = new Node();
    n.feed({ type: "start" });
    n.feedOwn(n.feed({ type: "timeout", height: H, round: 0, step: Step.Propose }));
    n.feedOwn(n.votes([1, 2, 3], MsgType.Prevote, 0, null));
    expect(n.state.round).toBe(0);
    const fx = n.votes([1, 2], MsgType.Precommit, 0, null); // with its own: 3 of 4 for nil
    expect(n.state.round).toBe(1);
    expect(fx).toContainEqual(expect.objectContaining({ type: "newRound", height: H, round: 1 }));
    expect(fx).toContainEqual(
      expect.objectContaining({ type: "scheduleTimeout", height: H, round: 1, step: Step.Propose }),
    );
    expect(fx.some((e) => e.type === "scheduleTimeout" && e.step === Step.Precommit)).toBe(false);
  });

  it("+2/3 precommits of mixed kinds still wait for timeoutPrecommit (L47), then move on (L65)", () => {
    const n = new Node();
    n.feed({ type: "start" });
    n.feedOwn(n.feed({ type: "timeout", height: H, round: 0, step: Step.Propose }));
    n.feedOwn(n.votes([1, 2, 3], MsgType.Prevote, 0, null));
    n.votes([1], MsgType.Precommit, 0, A.hash);
    const fx = n.votes([2], MsgType.Precommit, 0, null); // nil: own + 2; A: 1
    expect(n.state.round).toBe(0);
    expect(fx).toContainEqual(
      expect.objectContaining({ type: "scheduleTimeout", height: H, round: 0, step: Step.Precommit }),
    );
    n.feed({ type: "timeout", height: H, round: 0, step: Step.Precommit });
    expect(n.state.round).toBe(1);
  });
});
