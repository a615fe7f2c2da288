import { describe, expect, it } from "vitest";
import {
  CHAIN_ID,
  certificateOf,
  makeBlock,
  makeValidators,
  signProposal,
  signVote,
} from "../test/fixtures.ts";
import { verifySignature } from "./signer.ts";
import { type ConsensusMessage, MsgType } from "./types.ts";
import { verifyMessage } from "./verifyMessage.ts";

const tv = makeValidators(4);
const other = makeValidators(4, 7);
const A = makeBlock("A");
const check = (m: unknown, set = tv.set) =>
  verifyMessage(m as ConsensusMessage, set, CHAIN_ID, verifySignature);

describe("verifyMessage", () => {
  it("accepts votes, proposals and certificates signed by the set, and nothing else", () => {
    const vote = signVote(tv.keys[1]!, tv.addresses[1]!, MsgType.Prevote, 2, 0, A.hash);
    const proposal = signProposal(tv.keys[2]!, tv.addresses[2]!, 2, 0, -1, A.hash);
    const cert = certificateOf(tv, [0, 1, 2], 2, 0, A.hash);
    expect(check({ type: "vote", vote })).toBe(true);
    expect(check({ type: "proposal", proposal, block: A })).toBe(true);
    expect(check({ type: "certificate", certificate: cert })).toBe(true);
    expect(check({ type: "vote", vote }, other.set)).toBe(false); // another set
    expect(check({ type: "vote", vote: { ...vote, round: 1 } })).toBe(false); // bad signature
    expect(check({ type: "certificate", certificate: certificateOf(tv, [0, 1], 2, 0, A.hash) })).toBe(false);
    expect(check({ type: "certificate", certificate: { ...cert, signatures: [{}] } })).toBe(false);
    expect(check({ type: "proposal", proposal, block: makeBlock("B") })).toBe(false);
    expect(check({ type: "vote" })).toBe(false);
    expect(check(null)).toBe(false);
  });
});
