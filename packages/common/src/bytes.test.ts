import { describe, expect, it } from "vitest";
import {
  bigintToHex,
  bytesToBigint,
  bytesToHex,
  compareBytes,
  concatBytes,
  equalBytes,
  hexToBigint,
  hexToBytes,
  isHex,
  numberToHex,
  uintToBytes,
} from "./bytes.ts";

describe("bytes", () => {
  it("round-trips hex and bytes", () => {
    expect(bytesToHex(hexToBytes("0x00ff10"))).toBe("0x00ff10");
    expect(hexToBytes("0xABC")).toEqual(new Uint8Array([0x0a, 0xbc]));
    expect(bytesToHex(new Uint8Array())).toBe("0x");
    const view = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
    expect(bytesToHex(view)).toBe("0x0203");
  });

  it("rejects what is not hex", () => {
    expect(() => hexToBytes("abcd")).toThrow(/invalid hex/);
    expect(() => hexToBytes("0xzz")).toThrow(/invalid hex/);
    expect(isHex("0x123")).toBe(false);
    expect(isHex("0x123", { strict: false })).toBe(true);
    expect(() => hexToBigint("0x")).toThrow(/invalid quantity/);
  });

  it("quantities", () => {
    expect(bigintToHex(0n)).toBe("0x0");
    expect(bigintToHex(255n)).toBe("0xff");
    expect(numberToHex(4096)).toBe("0x1000");
    expect(hexToBigint("0x0100")).toBe(256n);
    expect(() => bigintToHex(-1n)).toThrow(RangeError);
    expect(() => numberToHex(1.5)).toThrow(RangeError);
  });

  it("fixed-width integers, concat, compare", () => {
    expect(uintToBytes(258, 4)).toEqual(new Uint8Array([0, 0, 1, 2]));
    expect(() => uintToBytes(256, 1)).toThrow(RangeError);
    expect(bytesToBigint(uintToBytes(2n ** 64n - 1n, 8))).toBe(2n ** 64n - 1n);
    expect(concatBytes(new Uint8Array([1]), new Uint8Array([2, 3]))).toEqual(new Uint8Array([1, 2, 3]));
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(equalBytes(new Uint8Array([1, 2]), new Uint8Array([1]))).toBe(false);
    expect(compareBytes(new Uint8Array([1]), new Uint8Array([1, 0]))).toBeLessThan(0);
  });
});

describe("seededRandom", () => {
  it("replays the same sequence from the same seed, in [0, 1)", async () => {
    const { seededRandom } = await import("./seededRandom.ts");
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
    expect(seededRandom(43)()).not.toBe(xs[0]);
  });
});
