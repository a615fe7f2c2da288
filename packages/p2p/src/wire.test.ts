import { RLP } from "@ethereumjs/rlp";
import { describe, expect, it } from "vitest";
import {
  DecodeError,
  decodeBatch,
  decodeBlocksByRangeRequest,
  decodeBlockWithCertificate,
  decodeStatus,
  encodeBatch,
  encodeBlocksByRangeRequest,
  encodeBlockWithCertificate,
  encodeStatus,
} from "./wire.ts";

const h32 = (b: number): Uint8Array => new Uint8Array(32).fill(b);

describe("wire formats", () => {
  it("status round-trips and has the documented RLP shape", () => {
    const s = { chainId: 901n, genesisHash: h32(1), headHeight: 123_456n, headHash: h32(2) };
    const bytes = encodeStatus(s);
    expect(decodeStatus(bytes)).toEqual(s);
    const raw = RLP.decode(bytes) as Uint8Array[];
    expect(raw.length).toBe(4);
    expect(Buffer.from(raw[0] as Uint8Array).toString("hex")).toBe("0385");
  });

  it("status decoding is strict", () => {
    const good = { chainId: 1n, genesisHash: h32(1), headHeight: 0n, headHash: h32(2) };
    expect(() => decodeStatus(RLP.encode([Uint8Array.of(1), h32(1), new Uint8Array(0)]))).toThrow(
      DecodeError,
    );
    expect(() =>
      decodeStatus(RLP.encode([Uint8Array.of(1), h32(1).subarray(1), new Uint8Array(0), h32(2)])),
    ).toThrow(/32 bytes/);
    expect(() => decodeStatus(RLP.encode([Uint8Array.of(0, 1), h32(1), new Uint8Array(0), h32(2)]))).toThrow(
      /non-canonical/,
    );
    expect(() => decodeStatus(Buffer.concat([encodeStatus(good), Uint8Array.of(0)]))).toThrow(/invalid RLP/);
  });

  it("blocks-by-range request and block round-trip", () => {
    expect(decodeBlocksByRangeRequest(encodeBlocksByRangeRequest({ from: 1_000_000n, count: 64 }))).toEqual({
      from: 1_000_000n,
      count: 64,
    });
    const b = { height: 7n, block: Uint8Array.of(1, 2, 3), certificate: new Uint8Array(96).fill(5) };
    expect(decodeBlockWithCertificate(encodeBlockWithCertificate(b))).toEqual(b);
    expect(() =>
      decodeBlocksByRangeRequest(RLP.encode([Uint8Array.of(1), new Uint8Array(5).fill(1)])),
    ).toThrow(/too large/);
  });

  it("batches round-trip and enforce their item limit", () => {
    const items = [Uint8Array.of(1), new Uint8Array(200).fill(2), Uint8Array.of(0x80)];
    expect(decodeBatch(encodeBatch(items), 3)).toEqual(items);
    expect(() => decodeBatch(encodeBatch(items), 2)).toThrow(/too many/);
    expect(() => decodeBatch(encodeBatch([]), 2)).toThrow(/empty/);
    expect(() => decodeBatch(RLP.encode([[Uint8Array.of(1)]]), 2)).toThrow(/expected bytes/);
  });
});
