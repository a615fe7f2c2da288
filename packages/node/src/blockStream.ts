import { bytesToHex, concatBytes, DseqError, type Hex, hexToBytes, utf8ToBytes } from "@dseq/common";
import { keccak256, publicKeyToAddress, secp256k1 } from "@dseq/crypto";
import { NodeErrorCode } from "./errors.ts";

/**
 * Block streaming (ADR 0092): while the round-0 proposer of a height fills its block during the
 * slot, it sends the transactions it offers to the block, in order, as signed fragments.
 * Validators run the same sequence on the same parent into their own open block, so when the
 * proposal arrives most of it is already executed. A fragment carries no consensus weight: a
 * validator accepts the proposal only if its own build has the proposal's hash, and otherwise
 * re-executes the block as always. The signature keeps others from making validators waste
 * work on transactions the proposer never offered.
 *
 * Wire (the proposal topic, envelope version 2):
 *   0x02 | height u64 | parentHash 32 | timestamp u64 | seq u32 | flags u8 | count u16 |
 *   count × (length u32 | raw tx) | signature 65 (r | s | recovery)
 * flags bit 0: the last fragment (the proposer sealed its block; validators seal theirs).
 * signed as keccak256("dseq/block-fragment/v1" | chainId u64 | everything before the signature).
 */
export const FRAGMENT_ENVELOPE_VERSION = 2;

export type BlockFragment = {
  height: number;
  parentHash: Hex;
  /** The block's timestamp (its slot, seconds). */
  timestamp: bigint;
  /** 0, 1, 2, ... per height: fragments are applied in this order. */
  seq: number;
  /** The proposer stopped adding: nothing follows (validators can seal now). */
  last: boolean;
  txs: Uint8Array[];
};

export type SignedFragment = BlockFragment & { signer: Hex };

const DOMAIN = utf8ToBytes("dseq/block-fragment/v1");
const FIXED = 1 + 8 + 32 + 8 + 4 + 1 + 2;
const SIG = 65;
/** A fragment is a few hundred milliseconds of transactions; this bounds a hostile one. */
export const MAX_FRAGMENT_TXS = 4096;
const MAX_TX_BYTES = 128 * 1024;

function digest(chainId: bigint, body: Uint8Array): Uint8Array {
  const id = new Uint8Array(8);
  new DataView(id.buffer).setBigUint64(0, chainId);
  return keccak256(concatBytes(DOMAIN, id, body));
}

export function encodeFragment(f: BlockFragment, chainId: bigint, privateKey: Uint8Array): Uint8Array {
  if (f.txs.length > MAX_FRAGMENT_TXS)
    throw new DseqError(NodeErrorCode.FragmentTooBig, "too many transactions");
  let size = FIXED;
  for (const t of f.txs) size += 4 + t.length;
  const body = new Uint8Array(size);
  const v = new DataView(body.buffer);
  body[0] = FRAGMENT_ENVELOPE_VERSION;
  v.setBigUint64(1, BigInt(f.height));
  body.set(hexToBytes(f.parentHash), 9);
  v.setBigUint64(41, f.timestamp);
  v.setUint32(49, f.seq);
  body[53] = f.last ? 1 : 0;
  v.setUint16(54, f.txs.length);
  let o = FIXED;
  for (const t of f.txs) {
    v.setUint32(o, t.length);
    body.set(t, o + 4);
    o += 4 + t.length;
  }
  const { signature, recovery } = secp256k1.sign(digest(chainId, body), privateKey);
  return concatBytes(body, signature, new Uint8Array([recovery]));
}

/** Is this gossip payload a fragment (rather than a consensus envelope)? */
export function isFragment(data: Uint8Array): boolean {
  return data[0] === FRAGMENT_ENVELOPE_VERSION;
}

/** Parses and authenticates a fragment; throws on anything malformed. */
export function decodeFragment(data: Uint8Array, chainId: bigint): SignedFragment {
  const bad = (why: string): never => {
    throw new DseqError(NodeErrorCode.FragmentInvalid, `block fragment: ${why}`);
  };
  if (data.length < FIXED + SIG || data[0] !== FRAGMENT_ENVELOPE_VERSION) bad("too short or wrong version");
  const body = data.subarray(0, data.length - SIG);
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const height = v.getBigUint64(1);
  if (height === 0n || height > BigInt(Number.MAX_SAFE_INTEGER)) bad("height out of range");
  const flags = body[53] as number;
  if (flags > 1) bad("unknown flags");
  const count = v.getUint16(54);
  if (count > MAX_FRAGMENT_TXS) bad("too many transactions");
  const txs: Uint8Array[] = [];
  let o = FIXED;
  for (let i = 0; i < count; i++) {
    if (o + 4 > body.length) bad("truncated");
    const len = v.getUint32(o);
    if (len === 0 || len > MAX_TX_BYTES || o + 4 + len > body.length) bad("bad transaction length");
    txs.push(body.slice(o + 4, o + 4 + len));
    o += 4 + len;
  }
  if (o !== body.length) bad("trailing bytes");
  const sig = data.subarray(data.length - SIG);
  const recovery = sig[64] as number;
  if (recovery > 1) bad("bad recovery id");
  let pub: Uint8Array;
  try {
    pub = secp256k1.recover(digest(chainId, body), sig.subarray(0, 64), recovery);
  } catch {
    return bad("signature does not recover");
  }
  return {
    height: Number(height),
    parentHash: bytesToHex(body.subarray(9, 41)),
    timestamp: v.getBigUint64(41),
    seq: v.getUint32(49),
    last: flags === 1,
    txs,
    signer: bytesToHex(publicKeyToAddress(pub)),
  };
}
