import { secp256k1, secp256k1_FROST, secp256k1_hasher } from "@noble/curves/secp256k1.js";
import { TssError, TssErrorCode } from "./errors.ts";

/** The RFC 9591 ciphersuite every dseq group key uses: FROST(secp256k1, SHA-256). */
export const frost = secp256k1_FROST;
export const Point = secp256k1.Point;
export const Fn = secp256k1.Point.Fn;
export const hashToScalar = secp256k1_hasher.hashToScalar;
/** RFC 9591 contextString of the ciphersuite; prefixes of H1..H5 and of the DKG hash. */
export const CONTEXT_STRING = "FROST-secp256k1-SHA256-v1";

/** Random bytes source (`rng(n)` returns n bytes); injected where tests need exact runs. */
export type Rng = (bytes?: number) => Uint8Array;

/** A BFT quorum of n: floor(2n/3) + 1. FROST needs at least two members. */
export function thresholdFor(n: number): number {
  if (!Number.isSafeInteger(n) || n < 2) {
    throw new TssError(TssErrorCode.BadParams, "a group needs at least 2 members", { details: { n } });
  }
  return Math.floor((2 * n) / 3) + 1;
}

/** FROST identifier (hex scalar) of the member at `index` (0-based) of the sorted set. */
export function identifierAt(index: number): string {
  return frost.Identifier.fromNumber(index + 1);
}
