import { bytesToHex, type Hex, hexToBytes } from "@dseq/common";
import { keccak256, publicKeyToAddress, secp256k1 } from "@dseq/crypto";

/**
 * Signs consensus sign bytes with the validator's key. The node wires its keystore behind it
 * (or a remote signer); the driver puts the double-sign guard in front of it.
 */
export interface Signer {
  /** The validator address this signer signs for. */
  readonly address: Hex;
  /** 64-byte compact secp256k1 signature (r || s, low S) over keccak256(signBytes). */
  sign(signBytes: Uint8Array): Promise<Uint8Array>;
}

/** Checks a signature over sign bytes against a 33- or 65-byte public key. Pure. */
export type VerifyFn = (signBytes: Uint8Array, signature: Uint8Array, publicKey: Uint8Array) => boolean;

/**
 * Ethereum-style address of an uncompressed public key (65 bytes with the 04 prefix, or the 64
 * bytes without it that the L1 contract stores), lower-case hex.
 */
export function publicKeyToValidatorAddress(publicKey: Uint8Array): Hex {
  return bytesToHex(publicKeyToAddress(normalizePublicKey(publicKey)));
}

/** 65-byte uncompressed form of a 64- or 65-byte public key. */
export function normalizePublicKey(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length === 65 && publicKey[0] === 4) return publicKey;
  if (publicKey.length === 64) {
    const out = new Uint8Array(65);
    out[0] = 4;
    out.set(publicKey, 1);
    return out;
  }
  throw new TypeError(`expected a 64 or 65 byte uncompressed public key, got ${publicKey.length} bytes`);
}

/** A signer holding a raw private key in memory (tests, devnet, embedding). */
export function createKeySigner(privateKey: Uint8Array): Signer & { readonly publicKey: Uint8Array } {
  if (!secp256k1.isValidPrivateKey(privateKey)) throw new TypeError("invalid secp256k1 private key");
  const key = privateKey.slice();
  const publicKey = secp256k1.getPublicKey(key, false);
  return {
    address: publicKeyToValidatorAddress(publicKey),
    publicKey,
    async sign(signBytes) {
      return secp256k1.sign(keccak256(signBytes), key).signature;
    },
  };
}

/** Verification with the fastest backend @dseq/crypto loaded (libsecp256k1, else noble). */
export const verifySignature: VerifyFn = (signBytes, signature, publicKey) =>
  signature.length === 64 && secp256k1.verify(keccak256(signBytes), signature, publicKey);

/**
 * Verification dominates consensus CPU: each distinct (sign bytes, signature, key) is checked
 * once and the answer kept. A cache miss costs one verification; the cache is a plain
 * bounded map that is cleared when full (old heights' entries are useless anyway).
 */
export function createCachedVerifier(
  verify: VerifyFn = verifySignature,
  maxEntries = 65_536,
): VerifyFn & {
  readonly hits: () => number;
  readonly misses: () => number;
} {
  const cache = new Map<string, boolean>();
  let hits = 0;
  let misses = 0;
  const fn = (signBytes: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean => {
    const key = `${Buffer.from(signBytes).toString("base64")}|${Buffer.from(signature).toString("base64")}|${Buffer.from(publicKey).toString("base64")}`;
    const got = cache.get(key);
    if (got !== undefined) {
      hits++;
      return got;
    }
    misses++;
    const ok = verify(signBytes, signature, publicKey);
    if (cache.size >= maxEntries) cache.clear();
    cache.set(key, ok);
    return ok;
  };
  return Object.assign(fn, { hits: () => hits, misses: () => misses });
}

export function signatureToHex(sig: Uint8Array): Hex {
  return bytesToHex(sig);
}

export function signatureFromHex(sig: Hex): Uint8Array {
  return hexToBytes(sig);
}
