// The reference the bench compares with: the same blocks in OP Stack's (Fjord) channel encoding,
// singular batches `0x00 ++ rlp([parent_hash, epoch_number, epoch_hash, timestamp, txs])`
// concatenated as RLP strings, compressed as `0x01 ++ brotli` (OP's default brotli-10), in one
// frame: `0x00 ++ channel_id(16) ++ frame_number(2) ++ length(4) ++ data ++ is_last(1)`.
import { brotliCompressSync, constants } from "node:zlib";
import { bytesToHex, concat, type Hex, keccak256, toHex, toRlp } from "viem";
import type { CommittedBlock } from "../src/index.ts";

/** L1 blocks every 12 s: six 2 s L2 blocks share an epoch (L1 origin). */
const L2_PER_EPOCH = 6n;

export function opChannelBytes(blocks: readonly CommittedBlock[], quality = 10): number {
  const batches: Hex[] = blocks.map((b) => {
    const epoch = 20_000_000n + (b.number - blocks[0]!.number) / L2_PER_EPOCH;
    const body = toRlp([
      b.parentHash,
      toHex(epoch),
      keccak256(toHex(`l1 block ${epoch}`)),
      toHex(b.timestamp),
      b.transactions.map((t) => bytesToHex(t)),
    ]);
    return toRlp(concat(["0x00", body]));
  });
  const rlpBatches = Buffer.from(concat(batches).slice(2), "hex");
  const z = brotliCompressSync(rlpBatches, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: quality,
      [constants.BROTLI_PARAM_SIZE_HINT]: rlpBatches.length,
    },
  });
  const channel = 1 + z.length; // version byte 0x01 (brotli) + stream
  return 1 + 16 + 2 + 4 + channel + 1;
}
