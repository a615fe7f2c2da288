import type { Block } from "@ethereumjs/block";
import { RLP } from "@ethereumjs/rlp";

/**
 * Default cap on a block's size, `block.serialize()` in bytes (2 MiB): half of the 4 MiB
 * gossip limit, so a full block plus its proposal envelope always travels.
 */
export const DEFAULT_MAX_BLOCK_BYTES = 2 * 1024 * 1024;

/**
 * Header fields that execution fills in after the draft was encoded and that may grow: gasUsed
 * (0 in the draft, up to 8 bytes) and blobGasUsed (same). Roots and the bloom have fixed sizes.
 */
const HEADER_GROWTH = 16;
/** Largest RLP list prefix of a payload under 4 GiB (1 + 4 length bytes). */
const MAX_LIST_PREFIX = 5;

/** RLP prefix length of a byte string or list payload of `len` bytes (`len` >= 56: long form). */
function prefixLength(len: number): number {
  if (len < 56) return 1;
  let n = 0;
  for (let l = len; l > 0; l = Math.floor(l / 256)) n++;
  return 1 + n;
}

/**
 * Bytes of `block.serialize()` that are not transactions, as an upper bound known before any
 * transaction runs: the draft header (plus the fields execution may grow), the empty uncle
 * list, the withdrawals (fixed by the L1 entries) and the two list prefixes at their largest.
 */
export function blockOverheadBytes(draft: Block): number {
  const withdrawals =
    draft.withdrawals === undefined ? 0 : RLP.encode(draft.withdrawals.map((w) => w.raw())).length;
  return (
    draft.header.serialize().length + HEADER_GROWTH + 1 + withdrawals + MAX_LIST_PREFIX + MAX_LIST_PREFIX
  );
}

/**
 * Bytes a transaction adds to the block's transaction list: a legacy transaction is its RLP
 * list as is, a typed one is wrapped as a byte string (prefix + `type || payload`).
 */
export function txBytesInBlock(type: number, encoded: Uint8Array): number {
  return type === 0 ? encoded.length : encoded.length + prefixLength(encoded.length);
}
