import { createHash } from "node:crypto";
import { bytesToHex, concatBytes, type Hex, hexToBytes, utf8ToBytes } from "@dseq/common";
import { secp256k1 as fastSecp } from "@dseq/crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { TssError, TssErrorCode } from "./errors.ts";

/**
 * A party is named by its long-term secp256k1 public key (its sequencer key), compressed,
 * 0x-prefixed: the same identity the p2p layer binds to the peer.
 */
export type PartyId = Hex;

/** A party's long-term key. The secret never leaves the process and is never logged. */
export type PartyKey = {
  readonly id: PartyId;
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
};

export function createPartyKey(secretKey: Uint8Array = secp256k1.utils.randomSecretKey()): PartyKey {
  const publicKey = secp256k1.getPublicKey(secretKey, true);
  return { id: bytesToHex(publicKey), publicKey, secretKey };
}

export function isPartyId(v: unknown): v is PartyId {
  return typeof v === "string" && /^0x0[23][0-9a-f]{64}$/.test(v);
}

/** Party id → (compressed bytes, uncompressed bytes), for ids whose point was checked. */
const validated = new Map<PartyId, { bytes: Uint8Array; full: Uint8Array }>();

function partyKeys(id: PartyId): { bytes: Uint8Array; full: Uint8Array } {
  let k = validated.get(id);
  if (k) return k;
  if (!isPartyId(id)) throw new TssError(TssErrorCode.BadParams, "not a party id", { details: { id } });
  const bytes = hexToBytes(id);
  let full: Uint8Array;
  try {
    full = fastSecp.convertPublicKey(bytes, false);
  } catch {
    throw new TssError(TssErrorCode.BadParams, "not a party id", { details: { id } });
  }
  k = { bytes, full };
  if (validated.size > 4096) validated.clear();
  validated.set(id, k);
  return k;
}

/** The public key bytes of a party id; throws on anything that is not a valid point. */
export function partyPublicKey(id: PartyId): Uint8Array {
  return partyKeys(id).bytes.slice();
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Domain-separated statement: "dseq/tss/" || domain || 0x00 || payload. */
function statement(domain: string, payload: Uint8Array): Uint8Array {
  return concatBytes(utf8ToBytes(`dseq/tss/${domain}`), new Uint8Array([0]), payload);
}

/**
 * ECDSA over sha256(statement) (compact 64 bytes, low-s, RFC 6979) with the party key, on
 * libsecp256k1 when it loaded (noble otherwise; both give the same bytes).
 */
export function signStatement(key: PartyKey, domain: string, payload: Uint8Array): Uint8Array {
  return fastSecp.sign(sha256(statement(domain, payload)), key.secretKey).signature;
}

/** Checks a `signStatement` signature; high-s and malformed signatures are refused. */
export function verifyStatement(id: PartyId, domain: string, payload: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (sig.length !== 64) return false;
    return fastSecp.verify(sha256(statement(domain, payload)), sig, partyKeys(id).full);
  } catch {
    return false;
  }
}

/** Members in canonical order (by public key bytes), without duplicates. */
export function sortMembers(members: readonly PartyId[]): PartyId[] {
  const out = [...new Set(members.map((m) => m.toLowerCase() as PartyId))].sort();
  if (out.length !== members.length) {
    throw new TssError(TssErrorCode.BadParams, "duplicate members", { details: { n: members.length } });
  }
  for (const m of out) partyPublicKey(m);
  return out;
}
