import { describe, expect, it } from "vitest";
import { decodeBlockExtra, encodeBlockExtra } from "./blockExtra.ts";

describe("block extraData", () => {
  it("round-trips round and proposer in 25 bytes", () => {
    const e = { round: 3, proposer: "0x00000000000000000000000000000000000000ab" as const };
    const b = encodeBlockExtra(e);
    expect(b.length).toBe(25);
    expect(decodeBlockExtra(b)).toEqual(e);
  });
  it("refuses other shapes", () => {
    expect(() => decodeBlockExtra("0x")).toThrow(/dseq v1 block extra/);
    const b = encodeBlockExtra({ round: 0, proposer: `0x${"11".repeat(20)}` });
    b[0] = 2;
    expect(() => decodeBlockExtra(b)).toThrow(/dseq v1/);
    expect(() => encodeBlockExtra({ round: -1, proposer: `0x${"11".repeat(20)}` })).toThrow(RangeError);
  });
});
