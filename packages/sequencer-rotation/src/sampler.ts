import { bytesToBigint, concatBytes, type Hex, hexToBytes, uintToBytes, utf8ToBytes } from "@dseq/common";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { RotationError, RotationErrorCode } from "./errors.ts";

/** Domain tag of span draws: ASCII, hashed first so no other keccak use can collide. */
export const SPAN_DRAW_DOMAIN = "dseq/sequencer-rotation/span-draw/v1";

const DOMAIN_BYTES = utf8ToBytes(SPAN_DRAW_DOMAIN);
const TWO_256 = 1n << 256n;

/**
 * A uniform integer in `[0, bound)` from a 32-byte-output hash in counter mode with rejection
 * sampling: `r_c = keccak256(prefix || uint32be(c))` read big-endian for c = 0, 1, ...; the
 * first `r_c < 2^256 - (2^256 mod bound)` gives `r_c mod bound`. Every residue then has the
 * same number of preimages, so there is no modulo bias.
 */
export function uniformBelow(prefix: Uint8Array, bound: bigint): bigint {
  if (bound <= 0n || bound > TWO_256) {
    throw new RotationError(RotationErrorCode.InvalidBound, "bound must be in (0, 2^256]", {
      details: { bound: bound.toString() },
    });
  }
  const limit = TWO_256 - (TWO_256 % bound);
  for (let counter = 0; counter < 2 ** 32; counter++) {
    const r = bytesToBigint(keccak_256(concatBytes(prefix, uintToBytes(counter, 4))));
    if (r < limit) return r % bound;
  }
  // Each try is rejected with probability < 1/2: 2^32 rejections do not happen.
  throw new RotationError(RotationErrorCode.SamplerExhausted, "sampler counter exhausted");
}

/** The hash prefix of one span draw (see README, "Span draw"). */
export function spanDrawPrefix(seed: Hex, spanIndex: number, election: number): Uint8Array {
  const seedBytes = hexToBytes(seed);
  if (seedBytes.length !== 32) {
    throw new RotationError(RotationErrorCode.InvalidSeed, "seed must be 32 bytes", { details: { seed } });
  }
  return concatBytes(DOMAIN_BYTES, seedBytes, uintToBytes(spanIndex, 8), uintToBytes(election, 4));
}

/** A candidate of a weighted draw. Weights are positive integers. */
export type WeightedCandidate = { readonly address: string; readonly weight: bigint };

/**
 * Stake-weighted choice: candidates in ascending address order, x = uniformBelow(prefix, total),
 * the first candidate whose cumulative weight exceeds x wins. Returns its index in `candidates`.
 * `candidates` must already be sorted by address (the caller's validator sets are).
 */
export function drawWeightedIndex(prefix: Uint8Array, candidates: readonly WeightedCandidate[]): number {
  let total = 0n;
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    if (c.weight <= 0n) throw new RotationError(RotationErrorCode.InvalidWeight, "weights must be positive");
    if (i > 0 && !(candidates[i - 1]!.address < c.address)) {
      throw new RotationError(
        RotationErrorCode.UnsortedCandidates,
        "candidates must be sorted by address, unique",
      );
    }
    total += c.weight;
  }
  if (total === 0n) throw new RotationError(RotationErrorCode.EmptySet, "no candidates to draw from");
  const x = uniformBelow(prefix, total);
  let cumulative = 0n;
  for (let i = 0; i < candidates.length; i++) {
    cumulative += candidates[i]!.weight;
    if (x < cumulative) return i;
  }
  throw new RotationError(RotationErrorCode.Invariant, "draw fell outside the cumulative weights");
}
