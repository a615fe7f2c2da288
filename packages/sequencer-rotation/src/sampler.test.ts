import { bytesToBigint, concatBytes, hexToBytes, uintToBytes, utf8ToBytes } from "@dseq/common";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import { drawWeightedIndex, SPAN_DRAW_DOMAIN, spanDrawPrefix, uniformBelow } from "./sampler.ts";

// Known answers computed with an independent pure-Python Keccak-256 (original 0x01 padding),
// not with this package: seed = 0x11 * 32, powers [20000, 35000, 100000, 60000] (total 215000).
const SEED = `0x${"11".repeat(32)}` as const;
const CANDIDATES = [20_000n, 35_000n, 100_000n, 60_000n].map((weight, i) => ({
  address: `0x${(i + 1).toString(16).padStart(40, "0")}`,
  weight,
}));
const KNOWN: { span: number; election: number; x: bigint; index: number }[] = [
  { span: 0, election: 0, x: 63_032n, index: 2 },
  { span: 1, election: 0, x: 13_131n, index: 0 },
  { span: 2, election: 0, x: 132_486n, index: 2 },
  { span: 3, election: 0, x: 103_282n, index: 2 },
  { span: 7, election: 0, x: 176_099n, index: 3 },
  { span: 7, election: 1, x: 169_067n, index: 3 },
  { span: 4, election: 2, x: 183_688n, index: 3 },
];

describe("span draw sampler", () => {
  it("builds the documented prefix: domain || seed || uint64 span || uint32 election", () => {
    const prefix = spanDrawPrefix(SEED, 7, 1);
    expect(Buffer.from(prefix).toString("hex")).toBe(
      "647365712f73657175656e6365722d726f746174696f6e2f7370616e2d647261772f7631" +
        "11".repeat(32) +
        "0000000000000007" +
        "00000001",
    );
    expect(SPAN_DRAW_DOMAIN).toBe("dseq/sequencer-rotation/span-draw/v1");
  });

  it("matches the known answers", () => {
    for (const k of KNOWN) {
      const prefix = spanDrawPrefix(SEED, k.span, k.election);
      expect(uniformBelow(prefix, 215_000n), `span ${k.span}/${k.election}`).toBe(k.x);
      expect(drawWeightedIndex(prefix, CANDIDATES)).toBe(k.index);
    }
  });

  it("keccak of counter 0 is the first candidate value", () => {
    const prefix = spanDrawPrefix(SEED, 7, 0);
    const r0 = bytesToBigint(keccak_256(concatBytes(prefix, uintToBytes(0, 4))));
    expect(r0).toBe(0x87c16fbaa56cc046fdff88518bc3a5c4c0aca77f8a4c8c895743e9a1ea0fad9bn);
    expect(r0 % 215_000n).toBe(176_099n);
  });

  it("rejects values at or above the largest multiple of the bound and moves to the next counter", () => {
    // With bound 2^255 + 1 about half of all outputs are rejected. Span 2's counter 0 is
    // (independent known answer), so the result comes from counter 1.
    const bound = (1n << 255n) + 1n;
    const prefix = spanDrawPrefix(SEED, 2, 0);
    const r0 = bytesToBigint(keccak_256(concatBytes(prefix, uintToBytes(0, 4))));
    expect(r0 >= bound).toBe(true);
    const r1 = bytesToBigint(keccak_256(concatBytes(prefix, uintToBytes(1, 4))));
    expect(r1 < bound).toBe(true);
    const x = uniformBelow(prefix, bound);
    expect(x).toBe(0x35adecf23df038c8986035bda0901bbcc548655bbdac87fb448957fb31a007abn);
    expect(x).toBe(r1 % bound);
  });

  it("maps x to the first candidate whose cumulative weight exceeds it", () => {
    // Search prefixes until each of the three candidates of weights [1, 2, 3] has been drawn,
    // and check each against the cumulative rule.
    const weights = [1n, 2n, 3n];
    const cands = weights.map((weight, i) => ({ address: `0x0${i}`, weight }));
    const seen = new Set<number>();
    for (let i = 0; seen.size < 3 && i < 100; i++) {
      const prefix = concatBytes(utf8ToBytes("t"), uintToBytes(i, 4));
      const x = uniformBelow(prefix, 6n);
      const idx = drawWeightedIndex(prefix, cands);
      expect(idx).toBe(x < 1n ? 0 : x < 3n ? 1 : 2);
      seen.add(idx);
    }
    expect(seen.size).toBe(3);
  });

  it("refuses unsorted candidates, zero weights, empty sets and bad seeds", () => {
    const p = utf8ToBytes("p");
    expect(() => drawWeightedIndex(p, [])).toThrow(/no candidates/);
    expect(() => drawWeightedIndex(p, [{ address: "0x01", weight: 0n }])).toThrow(/positive/);
    expect(() =>
      drawWeightedIndex(p, [
        { address: "0x02", weight: 1n },
        { address: "0x01", weight: 1n },
      ]),
    ).toThrow(/sorted/);
    expect(() => spanDrawPrefix("0x1234", 0, 0)).toThrow(/32 bytes/);
    expect(() => uniformBelow(p, 0n)).toThrow(/bound/);
    expect(hexToBytes(SEED).length).toBe(32);
  });
});
