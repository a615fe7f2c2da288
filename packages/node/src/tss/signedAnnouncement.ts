import { bytesToHex, concatBytes, type Hex, hexToBytes } from "@dseq/common";

/**
 * What a coordinator broadcasts once it has a signature, so the other members stop waiting
 * and their fallback coordinators do not start. It needs no author: a receiver verifies the
 * signature under the group key before believing it.
 * Layout: 0xd5 || version(1) || groupKey(33) || digest(32) || signature(65); 0xd5 cannot
 * start the JSON of an mpc-tss message, so the sessions ignore it.
 */
export type SignedAnnouncement = { groupKey: Hex; digest: Uint8Array; signature: Uint8Array };

const MAGIC = 0xd5;
const VERSION = 1;
export const SIGNED_ANNOUNCEMENT_BYTES = 2 + 33 + 32 + 65;

export function encodeSignedAnnouncement(a: SignedAnnouncement): Uint8Array {
  const gk = hexToBytes(a.groupKey);
  if (gk.length !== 33 || a.digest.length !== 32 || a.signature.length !== 65) {
    throw new RangeError("bad signed announcement fields");
  }
  return concatBytes(new Uint8Array([MAGIC, VERSION]), gk, a.digest, a.signature);
}

/** Strict: exactly the layout above, or undefined (the bytes come from any member). */
export function decodeSignedAnnouncement(bytes: Uint8Array): SignedAnnouncement | undefined {
  if (bytes.length !== SIGNED_ANNOUNCEMENT_BYTES || bytes[0] !== MAGIC || bytes[1] !== VERSION)
    return undefined;
  const gk = bytes.subarray(2, 35);
  if (gk[0] !== 2 && gk[0] !== 3) return undefined;
  return { groupKey: bytesToHex(gk), digest: bytes.slice(35, 67), signature: bytes.slice(67) };
}
