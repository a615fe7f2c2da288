import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { bytesToHex, concatBytes, type Hex, hexToBytes, utf8ToBytes } from "@dseq/common";

/** AES-256-GCM box at rest: iv (12) || ciphertext || tag (16), as hex. */
export function sealAtRest(key: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Hex {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(aad);
  const ct = concatBytes(c.update(plaintext), c.final());
  return bytesToHex(concatBytes(iv, ct, c.getAuthTag()));
}

/** The plaintext, or undefined if the key is wrong or anything was altered. */
export function openAtRest(key: Uint8Array, aad: Uint8Array, box: Hex): Uint8Array | undefined {
  try {
    const b = hexToBytes(box);
    if (b.length < 28) return undefined;
    const d = createDecipheriv("aes-256-gcm", key, b.subarray(0, 12));
    d.setAAD(aad);
    d.setAuthTag(b.subarray(b.length - 16));
    return concatBytes(d.update(b.subarray(12, b.length - 16)), d.final());
  } catch {
    return undefined;
  }
}

/** A purpose-bound subkey of the store's master key. */
export function subkey(master: Uint8Array, purpose: string): Uint8Array {
  return new Uint8Array(
    hkdfSync("sha256", master, new Uint8Array(0), utf8ToBytes(`dseq/tss/${purpose}`), 32),
  );
}
