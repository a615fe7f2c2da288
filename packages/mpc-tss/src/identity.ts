import { createHash } from "node:crypto";
import { bytesToHex, concatBytes, type Hex, hexToBytes, utf8ToBytes } from "@dseq/common";
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

/** The public key bytes of a party id; throws on anything that is not a valid point. */
export function partyPublicKey(id: PartyId): Uint8Array {
  if (!isPartyId(id)) throw new TssError(TssErrorCode.BadParams, "not a party id", { details: { id } });
  const pk = hexToBytes(id);
  secp256k1.Point.fromBytes(pk).assertValidity();
  return pk;
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Domain-separated digest: sha256("dseq/tss/" || domain || 0x00 || payload). */
function statementDigest(domain: string, payload: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8ToBytes(`dseq/tss/${domain}`), new Uint8Array([0]), payload));
}

/** ECDSA (compact 64 bytes, low-s) over a domain-separated statement, with the party key. */
export function signStatement(key: PartyKey, domain: string, payload: Uint8Array): Uint8Array {
  return secp256k1.sign(statementDigest(domain, payload), key.secretKey, { prehash: false });
}

export function verifyStatement(id: PartyId, domain: string, payload: Uint8Array, sig: Uint8Array): boolean {
  try {
    return secp256k1.verify(sig, statementDigest(domain, payload), partyPublicKey(id), { prehash: false });
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
