/**
 * LevelDB layout of the chain store (one `level` database, binary keys, one-byte prefixes).
 * Everything a commit writes goes into one atomic batch, the head pointer included, so a
 * crash at any moment leaves either the whole commit or none of it.
 *
 *   "s" + node hash / "c"+code hash   state trie nodes and code (content-addressed)
 *   "B" + block hash                  block RLP
 *   "n" + number (u64 BE)             canonical block hash
 *   "R" + block hash                  RLP list of consensus-encoded receipts
 *   "x" + tx hash                     block hash (32) ++ tx index (u32 BE)
 *   "L" + number (u64 BE)             logs bloom of the block (scanned by getLogs)
 *   "C" + number (u64 BE)             opaque commit extra (the BFT commit certificate)
 *   "h" + "latest"|"safe"|"finalized" block hash of that head
 *   "m" + "genesis"                   genesis JSON (geth format) and policy of the chain
 */
export const Prefix = {
  Block: 0x42,
  Canonical: 0x6e,
  Receipts: 0x52,
  TxLookup: 0x78,
  Bloom: 0x4c,
  Certificate: 0x43,
  Head: 0x68,
  Meta: 0x6d,
} as const;

export type HeadName = "latest" | "safe" | "finalized";

export function u64(n: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n);
  return b;
}

export function key(prefix: number, ...parts: Uint8Array[]): Uint8Array {
  let len = 1;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  out[0] = prefix;
  let o = 1;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const enc = new TextEncoder();
export const headKey = (name: HeadName) => key(Prefix.Head, enc.encode(name));
export const metaKey = (name: string) => key(Prefix.Meta, enc.encode(name));
export const blockKey = (hash: Uint8Array) => key(Prefix.Block, hash);
export const canonicalKey = (n: bigint) => key(Prefix.Canonical, u64(n));
export const receiptsKey = (hash: Uint8Array) => key(Prefix.Receipts, hash);
export const txLookupKey = (hash: Uint8Array) => key(Prefix.TxLookup, hash);
export const bloomKey = (n: bigint) => key(Prefix.Bloom, u64(n));
export const certificateKey = (n: bigint) => key(Prefix.Certificate, u64(n));

export function encodeTxLookup(blockHash: Uint8Array, index: number): Uint8Array {
  const out = new Uint8Array(36);
  out.set(blockHash, 0);
  new DataView(out.buffer).setUint32(32, index);
  return out;
}

export function decodeTxLookup(v: Uint8Array): { blockHash: Uint8Array; index: number } {
  return {
    blockHash: v.slice(0, 32),
    index: new DataView(v.buffer, v.byteOffset, v.byteLength).getUint32(32),
  };
}

export type BatchOp = { type: "put"; key: Uint8Array; value: Uint8Array } | { type: "del"; key: Uint8Array };
