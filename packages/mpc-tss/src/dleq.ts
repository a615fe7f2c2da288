import { concatBytes, utf8ToBytes } from "@dseq/common";
import { Fn, frost, hashToScalar, Point, type Rng } from "./suite.ts";

const DST = utf8ToBytes("dseq/tss/dleq/v1");

/**
 * Chaum–Pedersen proof that log_G(X) = log_H(Y), built on noble's group operations. A DKG
 * complaint reveals the ECDH point Y = x·H (x the accuser's long-term key, H the accused's
 * ephemeral key) with this proof, so every party can open the disputed box itself and judge
 * who lied without learning the accuser's key.
 */
function challenge(X: Uint8Array, H: Uint8Array, Y: Uint8Array, A: Uint8Array, B: Uint8Array): bigint {
  return hashToScalar(concatBytes(X, H, Y, A, B), { DST });
}

/**
 * Proof (c || s, 64 bytes) for secret x, public X = x·G, base H and Y = x·H (all compressed);
 * the nonce is noble's non-zero scalar sampling from `rng` (default: the system RNG).
 */
export function proveDleq(x: Uint8Array, H: Uint8Array, Y: Uint8Array, rng?: Rng): Uint8Array {
  const xs = Fn.fromBytes(x);
  const X = Point.BASE.multiply(xs).toBytes(true);
  const Hp = Point.fromBytes(H);
  const k = Fn.fromBytes(frost.utils.randomScalar(rng));
  const A = Point.BASE.multiply(k).toBytes(true);
  const B = Hp.multiply(k).toBytes(true);
  const c = challenge(X, H, Y, A, B);
  const s = Fn.add(k, Fn.mul(c, xs));
  return concatBytes(Fn.toBytes(c), Fn.toBytes(s));
}

export function verifyDleq(X: Uint8Array, H: Uint8Array, Y: Uint8Array, proof: Uint8Array): boolean {
  try {
    if (proof.length !== 64) return false;
    const c = Fn.fromBytes(proof.subarray(0, 32));
    const s = Fn.fromBytes(proof.subarray(32));
    const Xp = Point.fromBytes(X);
    const Hp = Point.fromBytes(H);
    const Yp = Point.fromBytes(Y);
    for (const p of [Xp, Hp, Yp]) {
      p.assertValidity();
      if (p.is0()) return false;
    }
    // A = s·G − c·X, B = s·H − c·Y; all inputs are public, so variable time is fine.
    const A = Point.BASE.multiplyUnsafe(s).subtract(Xp.multiplyUnsafe(c));
    const B = Hp.multiplyUnsafe(s).subtract(Yp.multiplyUnsafe(c));
    if (A.is0() || B.is0()) return false;
    return Fn.eql(c, challenge(X, H, Y, A.toBytes(true), B.toBytes(true)));
  } catch {
    return false;
  }
}
