import { bytesToHex } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { describe, expect, it } from "vitest";
import {
  CHAIN_ID,
  certificateOf,
  makeBlock,
  makeValidators,
  signProposal,
  signVote,
} from "../test/fixtures.ts";
import { FutureBuffer, messageBytes, messageKey, SeenSet } from "./inputBuffer.ts";
import { type ConsensusMessage, MsgType } from "./types.ts";

const tv = makeValidators(4);
const vote = (i: number, round: number, hash: `0x${string}` | null = null): ConsensusMessage => ({
  type: "vote",
  vote: signVote(tv.keys[i]!, tv.addresses[i]!, MsgType.Prevote, 2, round, hash),
});
const proposal = (i: number, round: number, bytes: number): ConsensusMessage => {
  const payload = new Uint8Array(bytes).fill(round + 1);
  const block = { hash: bytesToHex(keccak256(payload)), payload };
  return {
    type: "proposal",
    proposal: signProposal(tv.keys[i]!, tv.addresses[i]!, 2, round, -1, block.hash),
    block,
  };
};

describe("messageKey", () => {
  it("is the signed content: equal for copies, different for any other signature, block or certificate", () => {
    const v = vote(1, 0);
    expect(messageKey(CHAIN_ID, structuredClone(v))).toBe(messageKey(CHAIN_ID, v));
    expect(messageKey(CHAIN_ID, vote(1, 1))).not.toBe(messageKey(CHAIN_ID, v));
    expect(messageKey(CHAIN_ID, vote(2, 0))).not.toBe(messageKey(CHAIN_ID, v));
    const A = makeBlock("A");
    const c1 = certificateOf(tv, [0, 1, 2], 2, 0, A.hash);
    const c2 = certificateOf(tv, [1, 2, 3], 2, 0, A.hash);
    const key = (c: typeof c1) => messageKey(CHAIN_ID, { type: "certificate", certificate: c });
    expect(key({ ...c1, signatures: [...c1.signatures].reverse() })).toBe(key(c1));
    expect(key(c2)).not.toBe(key(c1));
  });
});

describe("SeenSet", () => {
  it("remembers at most maxKeys, oldest forgotten first, and prunes decided heights", () => {
    const seen = new SeenSet({ maxKeys: 3 });
    const keys = [0, 1, 2, 3].map((r) => messageKey(CHAIN_ID, vote(1, r)));
    for (const [i, k] of keys.entries()) seen.add(k, i < 2 ? 1 : 2);
    expect(seen.size).toBe(3);
    expect(keys.map((k) => seen.has(k))).toEqual([false, true, true, true]);
    seen.prune(2);
    expect(keys.map((k) => seen.has(k))).toEqual([false, false, true, true]);
  });

  it("takes at most one vote plus three conflicting ones per (validator, round, type), and two proposals", () => {
    const seen = new SeenSet({ maxKeys: 100 });
    const hashes = ["a", "b", "c", "d", "e"].map((t) => makeBlock(t).hash);
    const verdicts = hashes.map((h) => {
      const m = vote(1, 0, h);
      const ok = seen.withinQuota(2, m);
      if (ok) seen.add(messageKey(CHAIN_ID, m), 2, m);
      return ok;
    });
    expect(verdicts).toEqual([true, true, true, true, false]);
    expect(seen.withinQuota(2, vote(1, 1))).toBe(true); // another round
    expect(seen.withinQuota(2, vote(2, 0))).toBe(true); // another validator
    const ps = [1, 2, 3].map((n) => proposal(2, 0, n));
    const taken = ps.map((m) => {
      const ok = seen.withinQuota(2, m);
      if (ok) seen.add(messageKey(CHAIN_ID, m), 2, m);
      return ok;
    });
    expect(taken).toEqual([true, true, false]);
  });

  it("forgets a message dropped from the queue, so its next copy is taken", () => {
    const seen = new SeenSet({ maxKeys: 100 });
    const m = vote(1, 0);
    seen.add(messageKey(CHAIN_ID, m), 2, m);
    seen.forget(m as { type: "vote"; vote: never }, 2, CHAIN_ID);
    expect(seen.has(messageKey(CHAIN_ID, m))).toBe(false);
  });
});

describe("FutureBuffer", () => {
  it("bounds total bytes, count, and per-sender count and bytes", () => {
    const buf = new FutureBuffer({ maxBytes: 3_000, maxCount: 6, perSenderCount: 3, perSenderBytes: 1_500 });
    const seq: [ConsensusMessage, boolean][] = [
      [proposal(2, 0, 1_000), true], // 1,192 bytes from validator 2
      [proposal(2, 4, 1_000), false], // validator 2 over its bytes
      [vote(2, 0), true],
      [vote(2, 1), true],
      [vote(2, 2), false], // validator 2 over its count
      [proposal(3, 1, 1_000), true], // 2,640 bytes in all
      [proposal(1, 3, 1_000), false], // over the total
      [vote(1, 0), true],
      [vote(3, 0), true],
      [vote(0, 0), false], // over the count
    ];
    expect(seq.map(([m]) => buf.add(m, 2))).toEqual(seq.map(([, ok]) => ok));
    expect(buf.count).toBe(6);
    expect(buf.bytes).toBe(seq.filter(([, ok]) => ok).reduce((n, [m]) => n + messageBytes(m), 0));
  });

  it("take returns the height's messages in arrival order and keeps later heights", () => {
    const buf = new FutureBuffer({ maxBytes: 1e6, maxCount: 100, perSenderCount: 100, perSenderBytes: 1e6 });
    const a = vote(1, 0);
    const b = vote(2, 0);
    const c = vote(3, 0);
    buf.add(a, 2);
    buf.add(b, 3);
    buf.add(c, 2);
    expect(buf.take(2)).toEqual([a, c]);
    expect(buf.count).toBe(1);
    expect(buf.take(3)).toEqual([b]);
    expect(buf.bytes).toBe(0);
  });
});
