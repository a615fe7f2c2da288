import { bytesToHex } from "@dseq/common";
import { keccak256, privateKeyToAddress } from "@dseq/crypto";
import { describe, expect, it } from "vitest";
import {
  type BlockFragment,
  decodeFragment,
  encodeFragment,
  isFragment,
  MAX_FRAGMENT_TXS,
} from "./blockStream.ts";
import { encodeConsensusEnvelope } from "./consensusWire.ts";

const key = keccak256(new TextEncoder().encode("fragment test key"));
const address = bytesToHex(privateKeyToAddress(key));
const fragment: BlockFragment = {
  height: 42,
  parentHash: bytesToHex(keccak256(new Uint8Array([1]))),
  timestamp: 1_800_000_000n,
  seq: 3,
  last: false,
  txs: [new Uint8Array([0x02, 1, 2, 3]), new Uint8Array(300).fill(7)],
};

describe("block fragments", () => {
  it("round-trip with the proposer's address recovered from the signature", () => {
    const data = encodeFragment(fragment, 1337n, key);
    expect(isFragment(data)).toBe(true);
    const got = decodeFragment(data, 1337n);
    expect(got).toEqual({ ...fragment, signer: address });
    const last = decodeFragment(encodeFragment({ ...fragment, last: true, txs: [] }, 1337n, key), 1337n);
    expect(last).toMatchObject({ last: true, txs: [], seq: 3 });
  });

  it("are told apart from consensus envelopes on the shared topic", () => {
    const vote = encodeConsensusEnvelope({
      type: "certificate",
      certificate: {
        height: 1,
        round: 0,
        blockHash: fragment.parentHash,
        signatures: [{ validator: `0x${"11".repeat(20)}`, signature: `0x${"22".repeat(64)}` }],
      },
    } as never);
    expect(isFragment(vote)).toBe(false);
  });

  it("signed for another chain, or altered, name someone else (and are ignored by validators)", () => {
    const data = encodeFragment(fragment, 1337n, key);
    expect(decodeFragment(data, 1n).signer).not.toBe(address);
    const altered = data.slice();
    altered[60] = (altered[60] as number) ^ 1; // inside the first transaction
    let signer: string | undefined;
    try {
      signer = decodeFragment(altered, 1337n).signer;
    } catch {
      signer = undefined; // or the signature no longer recovers at all
    }
    expect(signer).not.toBe(address);
  });

  it("refuse malformed input with a clear error", () => {
    const data = encodeFragment(fragment, 1337n, key);
    expect(() => decodeFragment(data.subarray(0, 40), 1337n)).toThrow(/too short/);
    expect(() => decodeFragment(data.subarray(0, data.length - 70), 1337n)).toThrow(/block fragment/);
    const flags = data.slice();
    flags[53] = 4;
    expect(() => decodeFragment(flags, 1337n)).toThrow(/flags/);
    const zeroHeight = encodeFragment({ ...fragment, height: 0 }, 1337n, key);
    expect(() => decodeFragment(zeroHeight, 1337n)).toThrow(/height/);
    const badLength = data.slice();
    new DataView(badLength.buffer).setUint32(56, 0xffff_ffff); // first tx length
    expect(() => decodeFragment(badLength, 1337n)).toThrow(/length/);
    const tooMany = {
      ...fragment,
      txs: Array.from({ length: MAX_FRAGMENT_TXS + 1 }, () => new Uint8Array([1])),
    };
    expect(() => encodeFragment(tooMany, 1337n, key)).toThrow(/too many/);
  });
});
