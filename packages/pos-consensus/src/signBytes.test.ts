import { bytesToHex, hexToBytes } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { CHAIN_ID, makeValidators, signVote } from "../test/fixtures.ts";
import { proposalSignBytes, SIGN_BYTES_LENGTH, signBytes, voteSignBytes } from "./signBytes.ts";
import { verifySignature } from "./signer.ts";
import { MsgType } from "./types.ts";

const HASH = `0x${"ab".repeat(32)}` as const;

describe("sign bytes", () => {
  it("has the documented fixed layout", () => {
    const b = signBytes(0x0102n, MsgType.Proposal, 7, 3, 1, HASH);
    expect(b.length).toBe(SIGN_BYTES_LENGTH);
    expect(bytesToHex(b)).toBe(
      `0x${Buffer.from("dseq.consensus.v1").toString("hex")}` +
        "0000000000000102" + // chain id
        "20" + // type 32
        "0000000000000007" + // height
        "00000003" + // round
        "00000002" + // pol round + 1
        "01" + // block
        "ab".repeat(32),
    );
    const nil = voteSignBytes(1n, {
      type: MsgType.Prevote,
      height: 1,
      round: 0,
      blockHash: null,
      validator: "0x00",
    });
    expect(bytesToHex(nil.subarray(-33))).toBe(`0x${"00".repeat(33)}`);
  });

  it("separates chain, type, height, round, pol round and value", () => {
    const base = signBytes(1n, MsgType.Prevote, 5, 1, -1, HASH);
    const variants = [
      signBytes(2n, MsgType.Prevote, 5, 1, -1, HASH),
      signBytes(1n, MsgType.Precommit, 5, 1, -1, HASH),
      signBytes(1n, MsgType.Prevote, 6, 1, -1, HASH),
      signBytes(1n, MsgType.Prevote, 5, 2, -1, HASH),
      signBytes(1n, MsgType.Prevote, 5, 1, -1, null),
      proposalSignBytes(1n, { height: 5, round: 1, polRound: 0, blockHash: HASH, proposer: "0x00" }),
    ];
    for (const v of variants) expect(bytesToHex(v)).not.toBe(bytesToHex(base));
  });

  it("a signature for one chain does not verify for another", () => {
    const tv = makeValidators(1);
    const vote = signVote(tv.keys[0]!, tv.addresses[0]!, MsgType.Precommit, 1, 0, HASH);
    const pub = tv.set.validators[0]!.publicKey;
    const sig = hexToBytes(vote.signature);
    expect(verifySignature(voteSignBytes(CHAIN_ID, vote), sig, pub)).toBe(true);
    expect(verifySignature(voteSignBytes(CHAIN_ID + 1n, vote), sig, pub)).toBe(false);
  });

  it("rejects out-of-range fields", () => {
    expect(() => signBytes(-1n, 1, 1, 0, -1, null)).toThrow(RangeError);
    expect(() => signBytes(1n, 1, -1, 0, -1, null)).toThrow(RangeError);
    expect(() => signBytes(1n, MsgType.Proposal, 1, 2, 2, HASH)).toThrow(RangeError); // pol round must be < round
    expect(() => signBytes(1n, 1, 1, 0, -1, "0xabcd")).toThrow(RangeError);
  });
});
