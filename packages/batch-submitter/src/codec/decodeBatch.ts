import { bytesToHex } from "viem";
import { badData } from "../errors.ts";
import { ByteReader } from "./byteStream.ts";
import { decompress } from "./compress.ts";
import { BLOCK_COLUMNS, PAYLOAD_VERSION } from "./encodeBatch.ts";
import { readTx, TX_COLUMNS, type TxColumnReaders } from "./txColumns.ts";
import { type BatchBlock, type BatchLimits, defaultBatchLimits, MAX_L1_ENTRIES_PER_BLOCK } from "./types.ts";

export type DecodeBatchOptions = {
  chainId: bigint;
  limits?: Partial<BatchLimits>;
};

/**
 * Decodes batch data from L1 (hostile input): bounded decompression, strict varints, every column
 * read to its end, byte-exact transactions. Throws BatchError BadBatchData with the field that failed.
 */
export function decodeBatch(data: Uint8Array, opts: DecodeBatchOptions): BatchBlock[] {
  const limits = { ...defaultBatchLimits, ...opts.limits };
  if (data.length === 0) throw badData("batch: empty data");
  if (data.length > limits.maxDataBytes + 1) {
    throw badData(`batch: ${data.length} bytes exceed the bound ${limits.maxDataBytes}`);
  }
  const payload = decompress(data[0]!, data.subarray(1), limits.maxPayloadBytes);
  return decodePayload(payload, opts.chainId, limits);
}

export function decodePayload(
  payload: Uint8Array,
  chainId: bigint,
  limits: BatchLimits = defaultBatchLimits,
): BatchBlock[] {
  const r = new ByteReader(payload, "batch payload");
  const version = r.byte("version");
  if (version !== PAYLOAD_VERSION)
    throw badData(`batch: payload version ${version}, expected ${PAYLOAD_VERSION}`);
  const firstBlock = r.varint("first block");
  const count = r.count("block count", limits.maxBlocks);
  if (count === 0) throw badData("batch: no blocks");
  const firstTimestamp = r.varint("first timestamp");
  const ncb = r.count("coinbase count", Math.min(count, Math.floor(r.remaining / 20)));
  const coinbases = Array.from({ length: ncb }, (_, i) => bytesToHex(r.bytes(20, `coinbase ${i}`)));
  const col = (name: string) =>
    new ByteReader(r.lbytes(`${name} column`, limits.maxPayloadBytes), `batch ${name} column`);
  const bc = Object.fromEntries(BLOCK_COLUMNS.map((c) => [c, col(c)])) as Record<
    (typeof BLOCK_COLUMNS)[number],
    ByteReader
  >;
  const tc = Object.fromEntries(TX_COLUMNS.map((c) => [c, col(c)])) as TxColumnReaders;
  r.end();
  const blocks: BatchBlock[] = [];
  let ts = firstTimestamp;
  let txs = 0;
  for (let i = 0; i < count; i++) {
    ts += bc.timestamps.varint(`timestamp delta of block ${i}`);
    const ci = bc.coinbases.count(`coinbase index of block ${i}`, ncb - 1);
    const extraData = bc.extras.lbytes(`extra data of block ${i}`, 1024).slice();
    const n = bc.txCounts.count(`tx count of block ${i}`, limits.maxTxs - txs);
    txs += n;
    const l1EntryCount = bc.entryCounts.count(`L1 entry count of block ${i}`, MAX_L1_ENTRIES_PER_BLOCK);
    const transactions: Uint8Array[] = [];
    for (let j = 0; j < n; j++) transactions.push(readTx(tc, chainId, limits.maxTxBytes));
    blocks.push({
      number: firstBlock + BigInt(i),
      timestamp: ts,
      coinbase: coinbases[ci]!,
      extraData,
      transactions,
      l1EntryCount,
    });
  }
  for (const c of BLOCK_COLUMNS) bc[c].end();
  for (const c of TX_COLUMNS) tc[c].end();
  if (new Set(coinbases).size !== ncb) throw badData("batch: duplicate coinbase in the table");
  return blocks;
}
