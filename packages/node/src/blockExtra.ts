import { bytesToHex, type Hex, hexToBytes } from "@dseq/common";
import { NodeError, NodeErrorCode } from "./errors.ts";

/**
 * What a dseq block carries in its header's extraData (25 of the 32 allowed bytes):
 * version (1 byte, = 1) || round the builder proposed it in (4 bytes, big-endian) ||
 * the builder's validator address (20 bytes). Validators check it against the schedule;
 * sequencer-rotation reads the builder from it to judge round-0 misses.
 */
export type BlockExtra = { round: number; proposer: Hex };

export const BLOCK_EXTRA_VERSION = 1;

export function encodeBlockExtra(extra: BlockExtra): Uint8Array {
  if (!Number.isInteger(extra.round) || extra.round < 0 || extra.round > 0xffffffff) {
    throw new RangeError(`round out of range: ${extra.round}`);
  }
  const addr = hexToBytes(extra.proposer);
  if (addr.length !== 20) throw new RangeError("proposer must be a 20-byte address");
  const out = new Uint8Array(25);
  out[0] = BLOCK_EXTRA_VERSION;
  new DataView(out.buffer).setUint32(1, extra.round);
  out.set(addr, 5);
  return out;
}

export function decodeBlockExtra(data: Uint8Array | Hex): BlockExtra {
  const b = typeof data === "string" ? hexToBytes(data) : data;
  if (b.length !== 25 || b[0] !== BLOCK_EXTRA_VERSION) {
    throw new NodeError(
      NodeErrorCode.BlockExtraInvalid,
      "extraData is not a dseq v1 block extra (25 bytes, version 1)",
      {
        details: { length: b.length, version: b[0] },
      },
    );
  }
  return {
    round: new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(1),
    proposer: bytesToHex(b.subarray(5, 25)),
  };
}
