import type { ConsensusMessage } from "@dseq/pos-consensus";
import { describe, expect, it } from "vitest";
import { decodeConsensusEnvelope, encodeConsensusEnvelope } from "./consensusWire.ts";

const vote: ConsensusMessage = {
  type: "vote",
  vote: {
    type: 1,
    height: 7,
    round: 0,
    blockHash: `0x${"ab".repeat(32)}`,
    validator: `0x${"11".repeat(20)}`,
    signature: `0x${"22".repeat(64)}`,
  },
};

describe("consensus gossip envelope", () => {
  it("the same message published twice gives different bytes that decode to the same message", () => {
    const a = encodeConsensusEnvelope(vote);
    const b = encodeConsensusEnvelope(vote);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(decodeConsensusEnvelope(a)).toEqual(vote);
    expect(decodeConsensusEnvelope(b)).toEqual(vote);
  });

  it("refuses other versions and garbage", () => {
    const a = encodeConsensusEnvelope(vote);
    a[0] = 2;
    expect(() => decodeConsensusEnvelope(a)).toThrow(/envelope/);
    expect(() => decodeConsensusEnvelope(new Uint8Array(5))).toThrow(/envelope/);
    const junk = encodeConsensusEnvelope(vote).slice(0, 20);
    expect(() => decodeConsensusEnvelope(junk)).toThrow();
  });
});
