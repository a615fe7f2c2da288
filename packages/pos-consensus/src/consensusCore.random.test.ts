import { describe, expect, it } from "vitest";
import {
  certificateOf,
  coreConfig,
  makeBlock,
  makeValidators,
  roundRobin,
  signProposal,
  signVote,
} from "../test/fixtures.ts";
import { rng } from "../test/sim.ts";
import { type ConsensusInput, type ConsensusState, createHeightState, step } from "./consensusCore.ts";
import { type Block, MsgType, Step, type TimeoutStep } from "./types.ts";

// Random input streams against one core, with the other three validators saying anything
// (beyond f faulty: safety is not promised, but the core's own invariants must hold).
const tv = makeValidators(4, 21);
const H = 1;
const blocks: Block[] = [makeBlock("r-A"), makeBlock("r-B"), makeBlock("r-C")];
const invalid = new Set([blocks[2]!.hash]);

function randomInput(r: () => number, state: ConsensusState): ConsensusInput {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const round = Math.max(0, state.round + pick([-1, 0, 0, 0, 1, 2]));
  const who = pick([1, 2, 3]);
  const value = pick([null, blocks[0]!.hash, blocks[1]!.hash, blocks[2]!.hash]);
  switch (
    pick(["vote", "vote", "vote", "vote", "proposal", "timeout", "validated", "certificate"] as const)
  ) {
    case "vote":
      return {
        type: "vote",
        vote: signVote(
          tv.keys[who]!,
          tv.addresses[who]!,
          pick([MsgType.Prevote, MsgType.Precommit]),
          H,
          round,
          value,
        ),
      };
    case "proposal": {
      const p = (H + round) % 4;
      const block = pick(blocks);
      const polRound = round > 0 ? pick([-1, round - 1, Math.floor(r() * round)]) : -1;
      return {
        type: "proposal",
        proposal: signProposal(tv.keys[p]!, tv.addresses[p]!, H, round, polRound, block.hash),
        block,
      };
    }
    case "timeout":
      return {
        type: "timeout",
        height: H,
        round: state.round,
        step: pick([Step.Propose, Step.Prevote, Step.Precommit]) as TimeoutStep,
      };
    case "validated": {
      const b = pick(blocks);
      return { type: "validated", height: H, blockHash: b.hash, valid: !invalid.has(b.hash) };
    }
    case "certificate":
      return { type: "certificate", certificate: certificateOf(tv, [1, 2, 3], H, round, pick(blocks).hash) };
  }
}

describe("consensus core under random inputs", () => {
  it("keeps its invariants: one signature intent per (round, step), monotone round and lock, one decision", {
    timeout: 60_000,
  }, () => {
    let decisions = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const r = rng(seed);
      let state = createHeightState(coreConfig(tv.addresses[0]!), H, roundRobin(tv.set, H));
      state = step(state, { type: "start" }).state;
      const intents = new Map<string, string>();
      for (let i = 0; i < 400 && state.round < 40; i++) {
        const input = randomInput(r, state);
        const before = state;
        const res = step(state, input); // a ConsensusInvariantError here fails the test
        state = res.state;
        for (const e of res.effects) {
          let key: string | undefined;
          let val = "";
          if (e.type === "signVote")
            [key, val] = [`${e.vote.round}:${e.vote.type}`, String(e.vote.blockHash)];
          if (e.type === "signProposal")
            [key, val] = [`${e.proposal.round}:p`, `${e.proposal.blockHash}:${e.proposal.polRound}`];
          if (!key) continue;
          expect(intents.get(key) ?? val, `seed ${seed}: two intents for ${key}`).toBe(val);
          intents.set(key, val);
          // Feed own votes back, as the driver does.
          if (e.type === "signVote") {
            const v = e.vote;
            state = step(state, {
              type: "vote",
              vote: signVote(tv.keys[0]!, v.validator, v.type, v.height, v.round, v.blockHash),
            }).state;
          }
        }
        expect(state.round).toBeGreaterThanOrEqual(before.round);
        if (before.lockedRound >= 0) expect(state.lockedRound).toBeGreaterThanOrEqual(before.lockedRound);
        if (before.decision) expect(state.decision).toBe(before.decision);
        // A valid value is always a block known valid.
        if (state.validValue) expect(state.blocks.get(state.validValue)?.valid).toBe(true);
        // Never a decision for an invalid block.
        if (state.decision) expect(invalid.has(state.decision.block.hash)).toBe(false);
      }
      if (state.decision) decisions++;
    }
    expect(decisions).toBeGreaterThan(0);
  });
});
