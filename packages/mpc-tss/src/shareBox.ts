import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { concatBytes, type Hex, hexToBytes, utf8ToBytes } from "@dseq/common";
import { secp256k1 } from "@dseq/crypto";
import type { PartyId } from "./identity.ts";

/**
 * Encryption of DKG round-2 shares to their recipient: ECDH(secp256k1) between the sender's
 * per-attempt ephemeral key (published in its round-1 message) and the recipient's long-term
 * key, HKDF-SHA256, AES-256-GCM. The session, attempt, sender and recipient are the associated
 * data, so a box cannot be replayed into another session or redirected.
 */
export type ShareBoxContext = {
  sessionId: Hex;
  /** DKG attempt (bitmap of excluded members, even-length hex). */
  attempt: Hex;
  from: PartyId;
  to: PartyId;
};

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The shared point x·Y, compressed (33 bytes): what a complaint reveals. */
export function ecdhPoint(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return secp256k1.sharedPoint(secretKey, publicKey);
}

/**
 * ECDH with one secret against many public keys, returning the x-coordinate of the shared
 * point (the key material); libsecp256k1 when it loaded (about 10x OpenSSL's generic curve
 * code, which has no secp256k1 fast path). The complaint path uses `ecdhPoint`.
 */
export function ecdhWith(secretKey: Uint8Array): (publicKey: Uint8Array) => Uint8Array {
  return (publicKey) => secp256k1.sharedPoint(secretKey, publicKey).subarray(1);
}

function contextBytes(ctx: ShareBoxContext): Uint8Array {
  return concatBytes(
    utf8ToBytes("dseq/tss/dkg-share/v1"),
    hexToBytes(ctx.sessionId),
    hexToBytes(ctx.attempt),
    hexToBytes(ctx.from),
    hexToBytes(ctx.to),
  );
}

/** AES-256 key from the x-coordinate of the ECDH point, bound to the context. */
export function shareKey(sharedX: Uint8Array, ctx: ShareBoxContext): Uint8Array {
  return new Uint8Array(hkdfSync("sha256", sharedX, hexToBytes(ctx.sessionId), contextBytes(ctx), 32));
}

/** `rng` draws the IV (default: the system RNG). */
export function sealShare(
  key: Uint8Array,
  ctx: ShareBoxContext,
  plaintext: Uint8Array,
  rng: (bytes: number) => Uint8Array = randomBytes,
): Uint8Array {
  const iv = rng(IV_BYTES);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(contextBytes(ctx));
  const ct = concatBytes(c.update(plaintext), c.final());
  return concatBytes(iv, ct, c.getAuthTag());
}

/** The plaintext, or undefined when the box does not authenticate under this key and context. */
export function openShare(key: Uint8Array, ctx: ShareBoxContext, box: Uint8Array): Uint8Array | undefined {
  if (box.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const d = createDecipheriv("aes-256-gcm", key, box.subarray(0, IV_BYTES));
    d.setAAD(contextBytes(ctx));
    d.setAuthTag(box.subarray(box.length - TAG_BYTES));
    return concatBytes(d.update(box.subarray(IV_BYTES, box.length - TAG_BYTES)), d.final());
  } catch {
    return undefined;
  }
}
