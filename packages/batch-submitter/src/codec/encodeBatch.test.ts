import { bytesToHex, hexToBytes } from "viem";
import { describe, expect, it } from "vitest";
import { makeBlocks } from "../../test/fixtures.ts";
import { Compression } from "./compress.ts";
import { decodeBatch, decodePayload } from "./decodeBatch.ts";
import { BLOCK_COLUMNS, encodeBatch, encodePayload } from "./encodeBatch.ts";
import { TxKind } from "./txColumns.ts";
import type { BatchBlock, CommittedBlock } from "./types.ts";

const CHAIN = 901n;

const view = (b: readonly (BatchBlock | CommittedBlock)[]) =>
  b.map((x) => ({
    number: x.number,
    timestamp: x.timestamp,
    coinbase: x.coinbase.toLowerCase(),
    extraData: bytesToHex(x.extraData),
    txs: x.transactions.map((t) => bytesToHex(t)),
  }));

describe("encodeBatch / decodeBatch", () => {
  it("round-trips transfers and ERC-20 transfers, legacy and EIP-1559, byte-exact, with both compressions", async () => {
    const transfers = await makeBlocks({
      kind: "transfer",
      chainId: CHAIN,
      blocks: 12,
      txsPerBlock: 40,
      legacyShare: 0.3,
    });
    const tokens = await makeBlocks({
      kind: "erc20",
      chainId: CHAIN,
      blocks: 8,
      txsPerBlock: 30,
      firstBlock: 13n,
      seed: 2,
    });
    for (const blocks of [transfers, tokens]) {
      for (const compression of [Compression.zstd, Compression.brotli]) {
        const data = encodeBatch(blocks, { chainId: CHAIN, compression });
        expect(data[0]).toBe(compression);
        expect(view(decodeBatch(data, { chainId: CHAIN }))).toEqual(view(blocks));
      }
    }
  });

  it("strips the chain id and v: every fixture tx is columnar, and the stripped payload is smaller than the raw txs", async () => {
    const blocks = await makeBlocks({
      kind: "transfer",
      chainId: CHAIN,
      blocks: 4,
      txsPerBlock: 50,
      legacyShare: 0.5,
    });
    const payload = encodePayload(blocks, CHAIN);
    const raw = blocks.flatMap((b) => b.transactions).reduce((n, t) => n + t.length, 0);
    // RLP headers, chain id and v go: over 4 bytes a transaction before compression.
    expect(raw - payload.length).toBeGreaterThan(4 * 200);
    const kinds = decodePayloadKinds(payload);
    expect(kinds).not.toContain(TxKind.raw);
    expect(kinds).toContain(TxKind.legacy);
    // A batch of the same blocks under another chain id keeps every tx raw (nothing to strip): bigger.
    expect(encodePayload(blocks, CHAIN + 1n).length).toBeGreaterThan(raw);
  });

  it("keeps transactions it cannot strip (another chain, pre-EIP-155, unknown type) as exact raw bytes", async () => {
    const [other] = await makeBlocks({ kind: "transfer", chainId: 5n, blocks: 1, txsPerBlock: 3 });
    const [mine] = await makeBlocks({ kind: "erc20", chainId: CHAIN, blocks: 1, txsPerBlock: 2 });
    const opaque = hexToBytes("0x7ef8a0a0112233"); // a deposit-style typed tx the codec does not know
    const block: CommittedBlock = {
      ...mine!,
      extraData: hexToBytes("0xdeadbeef"),
      transactions: [...mine!.transactions, ...other!.transactions, opaque],
    };
    const data = encodeBatch([block], { chainId: CHAIN });
    const [back] = decodeBatch(data, { chainId: CHAIN });
    expect(back!.transactions.map((t) => bytesToHex(t))).toEqual(
      block.transactions.map((t) => bytesToHex(t)),
    );
    expect(bytesToHex(back!.extraData)).toBe("0xdeadbeef");
    // The kinds column: 2 stripped EIP-1559, then 4 raw.
    const kinds = decodePayloadKinds(encodePayload([block], CHAIN));
    expect(kinds).toEqual([TxKind.eip1559, TxKind.eip1559, TxKind.raw, TxKind.raw, TxKind.raw, TxKind.raw]);
  });

  it("stores round decimal values and ERC-20 transfer calldata compactly, and restores both exactly", async () => {
    const tokens = await makeBlocks({ kind: "erc20", chainId: CHAIN, blocks: 2, txsPerBlock: 50 });
    const transfers = await makeBlocks({ kind: "transfer", chainId: CHAIN, blocks: 2, txsPerBlock: 50 });
    const raw = (b: CommittedBlock[]) => b.flatMap((x) => x.transactions).reduce((n, t) => n + t.length, 0);
    // ERC-20: the 68 bytes of transfer(to, amount) become 1 + 20 + ~4 (more than 35 bytes saved a tx).
    expect(raw(tokens) - encodePayload(tokens, CHAIN).length).toBeGreaterThan(35 * 100);
    expect(raw(transfers) - encodePayload(transfers, CHAIN).length).toBeGreaterThan(8 * 100);
    for (const b of [tokens, transfers]) {
      expect(view(decodeBatch(encodeBatch(b, { chainId: CHAIN }), { chainId: CHAIN }))).toEqual(view(b));
    }
  });

  it("carries empty blocks, timestamps that jump and several coinbases", async () => {
    const blocks = await makeBlocks({
      kind: "transfer",
      chainId: CHAIN,
      blocks: 120,
      txsPerBlock: 0,
      firstBlock: 1000n,
    });
    blocks[60] = { ...blocks[60]!, timestamp: blocks[59]!.timestamp + 3600n };
    for (let i = 61; i < blocks.length; i++)
      blocks[i] = { ...blocks[i]!, timestamp: blocks[i - 1]!.timestamp + 2n };
    const data = encodeBatch(blocks, { chainId: CHAIN });
    expect(view(decodeBatch(data, { chainId: CHAIN }))).toEqual(view(blocks));
    expect(new Set(blocks.map((b) => b.coinbase)).size).toBeGreaterThan(1);
    // 120 empty blocks cost a few bytes each at most.
    expect(data.length).toBeLessThan(200);
  });

  it("refuses a gap, a timestamp going back or an empty batch", async () => {
    const blocks = await makeBlocks({ kind: "transfer", chainId: CHAIN, blocks: 3, txsPerBlock: 1 });
    expect(() => encodeBatch([], { chainId: CHAIN })).toThrow(/at least one block/);
    expect(() => encodeBatch([blocks[0]!, blocks[2]!], { chainId: CHAIN })).toThrow(/does not follow/);
    const back = { ...blocks[1]!, timestamp: blocks[0]!.timestamp - 1n };
    expect(() => encodeBatch([blocks[0]!, back], { chainId: CHAIN })).toThrow(/backwards/);
    expect(decodePayload(encodePayload(blocks, CHAIN), CHAIN).map((b) => b.number)).toEqual([1n, 2n, 3n]);
  });
});

/** The tx kinds column, read by decoding the payload's column table (test-only helper). */
function decodePayloadKinds(payload: Uint8Array): number[] {
  const blocks = decodePayload(payload, CHAIN);
  const n = blocks.reduce((s, b) => s + b.transactions.length, 0);
  // The kinds column is the first tx column: find it by its content length = tx count.
  // Re-encode a minimal walker: version, first, count, ts, coinbase table, then the block columns.
  let p = 0;
  const varint = () => {
    let x = 0;
    let shift = 0;
    for (;;) {
      const b = payload[p++]!;
      x += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) return x;
    }
  };
  p = 1;
  varint();
  varint();
  varint();
  const coinbases = varint();
  p += coinbases * 20;
  for (let i = 0; i < BLOCK_COLUMNS.length; i++) {
    const skip = varint();
    p += skip;
  }
  const len = varint();
  expect(len).toBe(n);
  return Array.from(payload.subarray(p, p + len));
}
