import { zstdCompressSync } from "node:zlib";
import { isDseqError, seededRandom } from "@dseq/common";
import { beforeAll, describe, expect, it } from "vitest";
import { makeBlocks } from "../../test/fixtures.ts";
import { BatchErrorCode } from "../errors.ts";
import { Compression } from "./compress.ts";
import { decodeBatch, decodePayload } from "./decodeBatch.ts";
import { encodeBatch, encodePayload } from "./encodeBatch.ts";
import type { CommittedBlock } from "./types.ts";

const CHAIN = 901n;
let blocks: CommittedBlock[];
let data: Uint8Array;
let payload: Uint8Array;

beforeAll(async () => {
  blocks = await makeBlocks({ kind: "erc20", chainId: CHAIN, blocks: 6, txsPerBlock: 10, legacyShare: 0.3 });
  data = encodeBatch(blocks, { chainId: CHAIN, compression: Compression.zstd });
  payload = encodePayload(blocks, CHAIN);
});

/** Runs `f` and returns the BatchError code and message it threw (fails on anything else). */
function failure(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (err) {
    if (isDseqError(err)) return { code: err.code, message: err.message };
    throw new Error(`not a BatchError: ${String(err)}`);
  }
  throw new Error("decoded without error");
}

const withZstd = (p: Uint8Array) => {
  const z = zstdCompressSync(p);
  return Uint8Array.from([Compression.zstd, ...z]);
};

describe("decodeBatch on hostile input", () => {
  it("refuses empty data, an unknown compression byte and oversized data", () => {
    expect(failure(() => decodeBatch(new Uint8Array(0), { chainId: CHAIN })).message).toMatch(/empty/);
    expect(
      failure(() => decodeBatch(Uint8Array.from([9, ...data.subarray(1)]), { chainId: CHAIN })).message,
    ).toMatch(/unknown compression 9/);
    const big = failure(() =>
      decodeBatch(data, { chainId: CHAIN, limits: { maxDataBytes: data.length - 10 } }),
    );
    expect(big.code).toBe(BatchErrorCode.BadBatchData);
    expect(big.message).toMatch(/exceed the bound/);
  });

  it("refuses every truncation of the compressed data", () => {
    for (let n = 1; n < data.length; n += Math.max(1, Math.floor(data.length / 60))) {
      expect(failure(() => decodeBatch(data.subarray(0, n), { chainId: CHAIN })).code).toBe(
        BatchErrorCode.BadBatchData,
      );
    }
  });

  it("refuses every truncation of the payload, naming the field", () => {
    const messages = new Set<string>();
    for (let n = 0; n < payload.length; n += 7) {
      const f = failure(() => decodePayload(payload.subarray(0, n), CHAIN));
      expect(f.code).toBe(BatchErrorCode.BadBatchData);
      messages.add(f.message.replace(/\d+/g, "N"));
    }
    expect([...messages].some((m) => /truncated reading/.test(m))).toBe(true);
  });

  it("refuses bit flips in the zstd data (checksummed frame)", () => {
    const rand = seededRandom(7);
    for (let i = 0; i < 200; i++) {
      const d = data.slice();
      const at = 1 + Math.floor(rand() * (d.length - 1));
      d[at] = d[at]! ^ (1 << Math.floor(rand() * 8));
      expect(failure(() => decodeBatch(d, { chainId: CHAIN })).code).toBe(BatchErrorCode.BadBatchData);
    }
  });

  it("a bit flip in brotli data (no checksum; the signed data hash guards it on L1) fails with a BatchError or decodes, never anything else", () => {
    const b = encodeBatch(blocks, { chainId: CHAIN });
    expect(b[0]).toBe(Compression.brotli);
    const rand = seededRandom(5);
    let refused = 0;
    const original = decodeBatch(b, { chainId: CHAIN }).flatMap((x) =>
      x.transactions.map((t) => Buffer.from(t).toString("hex")),
    );
    for (let i = 0; i < 100; i++) {
      const d = b.slice();
      const at = 1 + Math.floor(rand() * (d.length - 1));
      d[at] = d[at]! ^ (1 << Math.floor(rand() * 8));
      let back: string[] | undefined;
      try {
        back = decodeBatch(d, { chainId: CHAIN }).flatMap((x) =>
          x.transactions.map((t) => Buffer.from(t).toString("hex")),
        );
      } catch (err) {
        expect(isDseqError(err, BatchErrorCode.BadBatchData)).toBe(true);
        refused++;
      }
      // Brotli has don't-care bits (padding): a flip there decodes to the same blocks, harmless.
      if (back) expect(back.length).toBeGreaterThan(0);
    }
    expect(refused).toBeGreaterThan(5);
    expect(original.length).toBe(60);
  });

  it("a bit flip in the payload either fails with a BatchError or decodes to different blocks, never anything else", () => {
    const rand = seededRandom(11);
    const original = JSON.stringify(decodePayload(payload, CHAIN), (_, v) =>
      typeof v === "bigint" ? `${v}` : v,
    );
    let refused = 0;
    for (let i = 0; i < 400; i++) {
      const p = payload.slice();
      const at = Math.floor(rand() * p.length);
      p[at] = p[at]! ^ (1 << Math.floor(rand() * 8));
      try {
        const back = JSON.stringify(decodePayload(p, CHAIN), (_, v) => (typeof v === "bigint" ? `${v}` : v));
        expect(back).not.toBe(original);
      } catch (err) {
        expect(isDseqError(err, BatchErrorCode.BadBatchData)).toBe(true);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(10);
  });

  it("refuses trailing bytes, a wrong version, non-minimal varints and counts over the bounds", () => {
    expect(failure(() => decodePayload(Uint8Array.from([...payload, 0]), CHAIN)).message).toMatch(/trailing/);
    expect(failure(() => decodePayload(Uint8Array.from([3, ...payload.subarray(1)]), CHAIN)).message).toMatch(
      /version 3/,
    );
    // version 2, first block 1 written as 0x81 0x00 (non-minimal)
    expect(failure(() => decodePayload(Uint8Array.from([2, 0x81, 0x00, 1, 0]), CHAIN)).message).toMatch(
      /non-minimal/,
    );
    expect(failure(() => decodePayload(Uint8Array.from([2, 1, 0]), CHAIN)).message).toMatch(/no blocks/);
    const many = Uint8Array.from([2, 1, 0xff, 0xff, 0x03, 0]);
    expect(failure(() => decodePayload(many, CHAIN, { ...limits(), maxBlocks: 1000 })).message).toMatch(
      /exceeds the bound 1000/,
    );
    expect(
      failure(() => decodeBatch(withZstd(Uint8Array.from([...payload, 1, 2, 3])), { chainId: CHAIN }))
        .message,
    ).toMatch(/trailing/);
  });

  it("bounds decompression: a small bomb is refused instead of inflated", () => {
    const bomb = withZstd(new Uint8Array(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(10_000);
    const f = failure(() => decodeBatch(bomb, { chainId: CHAIN, limits: { maxPayloadBytes: 1024 * 1024 } }));
    expect(f.message).toMatch(/does not decompress within 1048576 bytes/);
  });

  it("decodes the same blocks under the same chain id only (the chain id is restored into every signature)", () => {
    const other = decodeBatch(data, { chainId: CHAIN + 1n });
    expect(other.flatMap((b) => b.transactions)).not.toEqual(blocks.flatMap((b) => b.transactions));
  });
});

function limits() {
  return {
    maxDataBytes: 1 << 20,
    maxPayloadBytes: 1 << 24,
    maxBlocks: 100,
    maxTxs: 1000,
    maxTxBytes: 1 << 16,
  };
}
