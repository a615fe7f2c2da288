import { isDseqError, utf8ToBytes } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { certificateOf, makeBlock, makeValidators, signProposal, signVote } from "../test/fixtures.ts";
import { decodeConsensusMessage, encodeConsensusMessage } from "./codec.ts";
import { type ConsensusMessage, MsgType } from "./types.ts";

const tv = makeValidators(4);
const A = makeBlock("A");

describe("consensus message codec", () => {
  it("round-trips votes, proposals with their block, and certificates", () => {
    const msgs: ConsensusMessage[] = [
      { type: "vote", vote: signVote(tv.keys[0]!, tv.addresses[0]!, MsgType.Prevote, 3, 1, null) },
      { type: "vote", vote: signVote(tv.keys[1]!, tv.addresses[1]!, MsgType.Precommit, 3, 1, A.hash) },
      { type: "proposal", proposal: signProposal(tv.keys[2]!, tv.addresses[2]!, 3, 2, 1, A.hash), block: A },
      { type: "certificate", certificate: certificateOf(tv, [0, 1, 2], 3, 1, A.hash) },
    ];
    for (const m of msgs) expect(decodeConsensusMessage(encodeConsensusMessage(m))).toEqual(m);
  });

  it("rejects malformed input with a stable code", () => {
    const bad = [
      "not json",
      "{}",
      '{"type":"vote","vote":{"type":3}}',
      '{"type":"vote","vote":{"type":1,"height":-1,"round":0,"blockHash":null,"validator":"0x00","signature":"0x00"}}',
      '{"type":"proposal","proposal":{"height":1,"round":0,"polRound":-2}}',
    ];
    for (const b of bad) {
      expect(() => decodeConsensusMessage(utf8ToBytes(b))).toThrow(
        expect.toSatisfy((e: unknown) => isDseqError(e, "CONSENSUS_BAD_MESSAGE")),
      );
    }
    expect(() => decodeConsensusMessage(new Uint8Array(100), 10)).toThrow();
  });
});
