import { bytesToHex } from "@dseq/common";
import { keccak256, privateKeyToAddress } from "@dseq/crypto";
import { describe, expect, it } from "vitest";
import { type BlockFragment, encodeFragment } from "../blockStream.ts";
import { preconfViolation } from "./check.ts";
import { verifyFragmentEvidence } from "./evidence.ts";
import { preconfFromWire } from "./fromWire.ts";
import { createPreconfStore } from "./store.ts";

const chainId = 1337n;
const key = keccak256(new TextEncoder().encode("preconf test key"));
const other = keccak256(new TextEncoder().encode("another key"));
const signer = bytesToHex(privateKeyToAddress(key));
const tx = (n: number): Uint8Array => new Uint8Array([0x02, n, n, n]);
const h = (n: number) => bytesToHex(keccak256(tx(n)));
const base: BlockFragment = {
  height: 7,
  parentHash: bytesToHex(keccak256(new Uint8Array([9]))),
  timestamp: 1_800_000_000n,
  seq: 0,
  last: false,
  txs: [],
};
const wire = (f: Partial<BlockFragment>, k = key) =>
  preconfFromWire(encodeFragment({ ...base, ...f }, chainId, k), chainId);

describe("preconf store", () => {
  it("keeps the contiguous prefix from seq 0 and the block position of each transaction", () => {
    const s = createPreconfStore();
    expect(s.add(wire({ seq: 1, txs: [tx(3)] })).kind).toBe("new");
    expect(s.prefix(7, 0)).toBeUndefined();
    expect(s.position(h(3))?.position).toBeUndefined(); // seq 0 not in yet
    s.add(wire({ seq: 0, txs: [tx(1), tx(2)] }));
    expect(s.prefix(7, 0)).toMatchObject({
      signer,
      fragments: 2,
      sealed: false,
      txHashes: [h(1), h(2), h(3)],
    });
    expect(s.position(h(3))).toMatchObject({ height: 7, round: 0, seq: 1, index: 0, position: 2 });
    s.add(wire({ seq: 3, txs: [tx(5)] })); // a gap at 2: not part of the prefix
    expect(s.prefix(7, 0)?.txHashes).toHaveLength(3);
    s.add(wire({ seq: 2, last: true, txs: [tx(4)] }));
    expect(s.prefix(7, 0)).toMatchObject({ fragments: 3, sealed: true, txHashes: [h(1), h(2), h(3), h(4)] });
    expect(s.longestPrefix(7)?.txHashes).toHaveLength(4);
    expect(s.add(wire({ seq: 2, last: true, txs: [tx(4)] })).kind).toBe("duplicate");
    s.prune(7);
    expect(s.prefix(7, 0)).toBeUndefined();
    expect(s.position(h(1))).toBeUndefined();
    expect(s.bytes).toBe(0);
  });

  it("records two different signed fragments at one (height, round, seq) as verifiable evidence", () => {
    const s = createPreconfStore();
    s.add(wire({ seq: 0, txs: [tx(1), tx(2)] }));
    const r = s.add(wire({ seq: 0, txs: [tx(2), tx(1)] }));
    expect(r.kind).toBe("equivocation");
    if (r.kind !== "equivocation") return;
    expect(r.evidence).toMatchObject({ height: 7, round: 0, seq: 0, signer });
    expect(() => verifyFragmentEvidence(r.evidence, chainId)).not.toThrow();
    s.add(wire({ seq: 0, txs: [tx(9)] }));
    expect(s.evidence()).toHaveLength(1); // one record per (height, round, seq, signer)
    // The first promise stands: the store does not switch to the contradicting fragment.
    expect(s.prefix(7, 0)?.txHashes).toEqual([h(1), h(2)]);
    // Forged evidence: the same bytes twice, or fragments of two signers, is refused.
    expect(() => verifyFragmentEvidence({ ...r.evidence, second: r.evidence.first }, chainId)).toThrow(
      /same bytes/,
    );
    const foreign = encodeFragment({ ...base, txs: [tx(8)] }, chainId, other);
    expect(() => verifyFragmentEvidence({ ...r.evidence, second: foreign }, chainId)).toThrow(/signers/);
    expect(() => verifyFragmentEvidence(r.evidence, 1n)).toThrow();
  });

  it("refuses a second signer for a (height, round) and stays under its byte bound", () => {
    const s = createPreconfStore({ maxBytes: 2_000, maxEvidence: 4 });
    s.add(wire({ seq: 0, txs: [tx(1)] }));
    expect(s.add(wire({ seq: 1, txs: [tx(2)] }, other))).toMatchObject({ kind: "refused" });
    for (let height = 8; height < 40; height++) s.add(wire({ height, seq: 0, txs: [tx(height)] }));
    expect(s.bytes).toBeLessThanOrEqual(2_000);
    expect(s.prefix(7, 0)).toBeUndefined(); // the oldest heights went first
    expect(s.prefix(39, 0)?.txHashes).toEqual([h(39)]);
    const huge = wire({ height: 50, seq: 0, txs: [new Uint8Array(3_000).fill(2)] });
    expect(s.add(huge)).toMatchObject({ kind: "refused", reason: "fragment larger than the store" });
  });
});

describe("preconfViolation", () => {
  const pre = [h(1), h(2), h(3)];
  it("accepts a proposal that starts with the preconfirmed transactions, in order", () => {
    expect(preconfViolation(pre, [h(1), h(2), h(3), h(4)])).toBeUndefined();
    expect(preconfViolation([], [h(4)])).toBeUndefined();
    expect(preconfViolation(pre, [h(1), h(3)], new Set([h(2)]))).toBeUndefined();
    expect(preconfViolation(pre, [h(1), h(3)], "unknown")).toBeUndefined();
    expect(preconfViolation(pre, [h(3), h(1)], "unknown")).toMatch(/promised at 0/);
  });
  it("refuses drops, reorders and insertions before a preconfirmed transaction", () => {
    expect(preconfViolation(pre, [h(1), h(2)])).toMatch(/drops/);
    expect(preconfViolation(pre, [h(2), h(1), h(3)])).toMatch(/promised at 0/);
    expect(preconfViolation(pre, [h(9), h(1), h(2), h(3)])).toMatch(/promised at 0/);
  });
});
