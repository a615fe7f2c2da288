import { createMetrics } from "@dseq/common";
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
} from "../test/fixtures.ts";
import type { ConsensusInput, ConsensusState } from "./consensusCore.ts";
import { createHeightState } from "./consensusCore.ts";
import { createDriverMetrics } from "./driverMetrics.ts";
import { FutureBuffer, SeenSet } from "./inputBuffer.ts";
import { type JudgeContext, judgeMessage } from "./judgeMessage.ts";
import { verifySignature } from "./signer.ts";
import { type ConsensusMessage, MsgType } from "./types.ts";
import { createStaticValidatorSource } from "./validatorSet.ts";

const tv = makeValidators(4);
const other = makeValidators(4, 7);
const A = makeBlock("A");

function setup(height = 5) {
  const queued: [ConsensusInput, number][] = [];
  const stale: ConsensusMessage[] = [];
  const catchUps: number[] = [];
  const decided: number[] = [];
  const ctx: JudgeContext = {
    chainId: CHAIN_ID,
    verify: verifySignature,
    maxRoundsAhead: 3,
    rebroadcastMs: 500,
    seen: new SeenSet({ maxKeys: 1000 }),
    future: new FutureBuffer({
      maxBytes: 1 << 20,
      maxCount: 100,
      perSenderCount: 9,
      perSenderBytes: 1 << 20,
    }),
    metrics: createDriverMetrics(createMetrics()),
    validators: createStaticValidatorSource(tv.set, "roundRobin"),
    catchUp: { schedule: (delay) => catchUps.push(delay), noteDecided: (h) => decided.push(h) },
    onStale: (message) => stale.push(message),
    enqueue: (input, h) => queued.push([input, h]),
  };
  const state = createHeightState(coreConfig(null), height, roundRobin(tv.set, height));
  return { ctx, state, queued, stale, catchUps, decided };
}
const vote = (i: number, height: number, round = 0, set = tv) =>
  ({
    type: "vote",
    vote: signVote(set.keys[i]!, set.addresses[i]!, MsgType.Prevote, height, round, A.hash),
  }) as const;

describe("judgeMessage", () => {
  it("queues a signed message of the current height once; a copy is a duplicate", () => {
    const { ctx, state, queued } = setup();
    expect(judgeMessage(ctx, state, vote(1, 5))).toBe("accept");
    expect(judgeMessage(ctx, state, vote(1, 5))).toBe("ignore");
    expect(queued.map(([input, h]) => [input.type, h])).toEqual([["vote", 5]]);
  });

  it("rejects malformed or foreign messages; ignores rounds too far ahead", () => {
    const { ctx, state, queued } = setup();
    expect(judgeMessage(ctx, state, { type: "vote" } as unknown as ConsensusMessage)).toBe("reject");
    expect(judgeMessage(ctx, state, vote(1, 5, 0, other))).toBe("reject");
    expect(judgeMessage(ctx, state, vote(1, 5, 4))).toBe("ignore");
    expect(queued).toEqual([]);
  });

  it("ignores a proposal of the height it has decided without asking for its proposer", () => {
    const { ctx, state, queued } = setup();
    const rr = roundRobin(tv.set, 5);
    const decided: ConsensusState = {
      ...state,
      validators: {
        set: rr.set,
        proposer: () => {
          throw new Error("no proposer known for this height and round");
        },
      },
      decision: { round: 0, block: A, certificate: certificateOf(tv, [0, 1, 2], 5, 0, A.hash) },
    };
    const p = signProposal(tv.keys[2]!, tv.addresses[2]!, 5, 1, -1, A.hash);
    expect(judgeMessage(ctx, decided, { type: "proposal", proposal: p, block: A })).toBe("ignore");
    expect(queued).toEqual([]);
  });

  it("hands a decided height's message to onStale", () => {
    const { ctx, state, stale } = setup();
    const old = vote(2, 4);
    expect(judgeMessage(ctx, state, old)).toBe("ignore");
    expect(stale).toEqual([old]);
  });

  it("buffers the next height, believes only verified claims, and schedules catch-up", () => {
    const { ctx, state, queued, catchUps, decided } = setup();
    expect(judgeMessage(ctx, state, vote(1, 6))).toBe("accept");
    expect(ctx.future.take(6)).toEqual([vote(1, 6)]);
    expect(judgeMessage(ctx, state, vote(1, 9, 0, other))).toBe("reject");
    const far = { type: "certificate", certificate: certificateOf(tv, [0, 1, 2], 9, 0, A.hash) } as const;
    expect(judgeMessage(ctx, state, far)).toBe("ignore");
    expect(decided).toEqual([5, 9]);
    expect(catchUps).toEqual([500, 0]);
    expect(queued).toEqual([]);
  });
});
