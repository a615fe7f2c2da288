import { hexToBytes } from "viem";
import { BatchError, BatchErrorCode } from "../errors.ts";
import { ByteWriter } from "./byteStream.ts";
import { Compression, compress } from "./compress.ts";
import { createTxColumnWriters, TX_COLUMNS, writeTx } from "./txColumns.ts";
import type { BatchBlock } from "./types.ts";

/** Version of the decompressed payload layout (2: per-block L1 entry counts, ADR 0180). */
export const PAYLOAD_VERSION = 2;
export const BLOCK_COLUMNS = ["timestamps", "coinbases", "extras", "txCounts", "entryCounts"] as const;

export type EncodeBatchOptions = {
  /** L2 chain id: stripped from every transaction, restored by the decoder. */
  chainId: bigint;
  /** Default brotli (ADR 0140: about 1% smaller than zstd on our blocks; both decode). */
  compression?: Compression;
};

/**
 * The uncompressed, stripped payload of consecutive blocks: a small head (version, first block,
 * block count, first timestamp, the coinbase table), then block columns (timestamp deltas, coinbase
 * index, extra data, tx count, L1 entry count) and the transaction columns, each length-prefixed.
 */
export function encodePayload(blocks: readonly BatchBlock[], chainId: bigint): Uint8Array {
  const first = blocks[0];
  if (!first) throw new BatchError(BatchErrorCode.BadBlocks, "a batch needs at least one block");
  const head = new ByteWriter();
  head.byte(PAYLOAD_VERSION);
  head.varint(first.number);
  head.varint(blocks.length);
  head.varint(first.timestamp);
  const coinbases: string[] = [];
  const coinbaseIndex = new Map<string, number>();
  for (const b of blocks) {
    const key = b.coinbase.toLowerCase();
    if (!coinbaseIndex.has(key)) {
      coinbaseIndex.set(key, coinbases.length);
      coinbases.push(key);
    }
  }
  head.varint(coinbases.length);
  for (const c of coinbases) {
    const bytes = hexToBytes(c as `0x${string}`);
    if (bytes.length !== 20) throw new BatchError(BatchErrorCode.BadBlocks, `coinbase ${c} is not 20 bytes`);
    head.bytes(bytes);
  }
  const bc = Object.fromEntries(BLOCK_COLUMNS.map((c) => [c, new ByteWriter()])) as Record<
    (typeof BLOCK_COLUMNS)[number],
    ByteWriter
  >;
  const tc = createTxColumnWriters();
  let prev = first;
  blocks.forEach((b, i) => {
    if (i > 0 && b.number !== prev.number + 1n) {
      throw new BatchError(BatchErrorCode.BadBlocks, `block ${b.number} does not follow ${prev.number}`);
    }
    if (b.timestamp < prev.timestamp) {
      throw new BatchError(BatchErrorCode.BadBlocks, `block ${b.number} timestamp goes backwards`);
    }
    bc.timestamps.varint(b.timestamp - prev.timestamp);
    bc.coinbases.varint(coinbaseIndex.get(b.coinbase.toLowerCase())!);
    bc.extras.lbytes(b.extraData);
    bc.txCounts.varint(b.transactions.length);
    bc.entryCounts.varint(b.l1EntryCount ?? 0);
    for (const tx of b.transactions) writeTx(tc, tx, chainId);
    prev = b;
  });
  for (const c of BLOCK_COLUMNS) head.lbytes(bc[c].finish());
  for (const c of TX_COLUMNS) head.lbytes(tc[c].finish());
  return head.finish();
}

/** Batch data as it goes to L1: one compression byte, then the compressed payload. */
export function encodeBatch(blocks: readonly BatchBlock[], opts: EncodeBatchOptions): Uint8Array {
  const kind = opts.compression ?? Compression.brotli;
  const body = compress(kind, encodePayload(blocks, opts.chainId));
  const out = new Uint8Array(body.length + 1);
  out[0] = kind;
  out.set(body, 1);
  return out;
}
