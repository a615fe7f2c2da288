import { createHash } from "node:crypto";
import { bytesToHex, concatBytes, type Hex, hexToBytes, utf8ToBytes } from "@dseq/common";
import { TssError, TssErrorCode } from "./errors.ts";
import { CONTEXT_STRING, Fn, Point } from "./suite.ts";

/**
 * A FROST(secp256k1, SHA-256) signature in the form the L1 batch inbox checks: every field a
 * 32-byte big-endian word. Valid iff z·G = R + c·P with c = {@link l1Challenge}(R, P, message).
 */
export type L1Signature = {
  /** Group commitment R. */
  rx: Hex;
  ry: Hex;
  /** Response scalar z (< n). */
  z: Hex;
  /** Group public key P. */
  px: Hex;
  py: Hex;
};

/** DST of RFC 9591's H2 ("chal") for this ciphersuite. */
export const CHALLENGE_DST = `${CONTEXT_STRING}chal`;

const word = (n: bigint): Hex => bytesToHex(Fn.toBytes(n));
const wordOfField = (n: bigint): Hex => `0x${n.toString(16).padStart(64, "0")}`;

/** Splits a 65-byte RFC 9591 signature (R compressed || z) and the group key into L1 words. */
export function toL1Signature(signature: Uint8Array, groupKey: Uint8Array | Hex): L1Signature {
  const pk = typeof groupKey === "string" ? hexToBytes(groupKey) : groupKey;
  if (signature.length !== 65) {
    throw new TssError(TssErrorCode.BadParams, "expected a 65-byte FROST signature", {
      details: { length: signature.length },
    });
  }
  const R = Point.fromBytes(signature.subarray(0, 33)).toAffine();
  const P = Point.fromBytes(pk).toAffine();
  const z = Fn.fromBytes(signature.subarray(33));
  return {
    rx: wordOfField(R.x),
    ry: wordOfField(R.y),
    z: word(z),
    px: wordOfField(P.x),
    py: wordOfField(P.y),
  };
}

/** The five words concatenated (160 bytes), i.e. `abi.encode(rx, ry, z, px, py)`. */
export function l1SignatureBytes(s: L1Signature): Uint8Array {
  return concatBytes(...[s.rx, s.ry, s.z, s.px, s.py].map((w) => hexToBytes(w)));
}

/**
 * rx || ry || z (96 bytes): the form the BatchInbox checks cheapest (no square root for R; the key
 * is the contract's own), ADR 0156. The contract also takes the 65-byte RFC serialization and
 * {@link l1SignatureBytes}.
 */
export function l1CompactSignatureBytes(s: L1Signature): Uint8Array {
  return concatBytes(...[s.rx, s.ry, s.z].map((w) => hexToBytes(w)));
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** SEC1 compressed point from affine words: (0x02 | (y & 1)) || x. */
function compressed(x: Hex, y: Hex): Uint8Array {
  const yb = hexToBytes(y);
  return concatBytes(new Uint8Array([0x02 | ((yb[31] as number) & 1)]), hexToBytes(x));
}

/**
 * RFC 9591 H2 for FROST(secp256k1, SHA-256), spelled out the way a contract computes it:
 * c = OS2IP(expand_message_xmd_sha256(R̂ || P̂ || m, DST, 48)) mod n, where R̂, P̂ are the
 * 33-byte compressed points and DST = "FROST-secp256k1-SHA256-v1chal" (RFC 9380 §5.3.1):
 *   DST' = DST || len(DST) (1 byte)
 *   b0 = sha256(64 zero bytes || msg || 0x0030 || 0x00 || DST')
 *   b1 = sha256(b0 || 0x01 || DST')
 *   b2 = sha256((b0 xor b1) || 0x02 || DST')
 *   c  = uint384(b1 || b2[0:16]) mod n
 */
export function l1Challenge(s: Pick<L1Signature, "rx" | "ry" | "px" | "py">, message: Uint8Array): Hex {
  const msg = concatBytes(compressed(s.rx, s.ry), compressed(s.px, s.py), message);
  const dst = utf8ToBytes(CHALLENGE_DST);
  const dstPrime = concatBytes(dst, new Uint8Array([dst.length]));
  const b0 = sha256(new Uint8Array(64), msg, new Uint8Array([0, 48, 0]), dstPrime);
  const b1 = sha256(b0, new Uint8Array([1]), dstPrime);
  const b2 = sha256(
    b0.map((b, i) => b ^ (b1[i] as number)),
    new Uint8Array([2]),
    dstPrime,
  );
  const uniform = concatBytes(b1, b2.subarray(0, 16));
  const c = BigInt(bytesToHex(uniform)) % Fn.ORDER;
  return word(c);
}

/** Checks z·G = R + c·P from the L1 words alone (what the contract does). */
export function verifyL1Signature(s: L1Signature, message: Uint8Array): boolean {
  try {
    const R = Point.fromAffine({ x: BigInt(s.rx), y: BigInt(s.ry) });
    const P = Point.fromAffine({ x: BigInt(s.px), y: BigInt(s.py) });
    R.assertValidity();
    P.assertValidity();
    const z = BigInt(s.z);
    if (z === 0n || z >= Fn.ORDER) return false;
    const c = BigInt(l1Challenge(s, message));
    return Point.BASE.multiplyUnsafe(z).equals(R.add(P.multiplyUnsafe(c)));
  } catch {
    return false;
  }
}

/**
 * Inputs for the usual EVM trick that checks a Schnorr signature with one `ecrecover`:
 * `ecrecover(h, v, r, s)` returns the address of (z·G − c·P) = R, so the contract compares it
 * with `address(keccak256(rx || ry))`. Requires px < n (reject otherwise).
 */
export function l1EcrecoverInputs(
  s: L1Signature,
  message: Uint8Array,
): { h: Hex; v: number; r: Hex; s: Hex } {
  const n = Fn.ORDER;
  const px = BigInt(s.px);
  const c = BigInt(l1Challenge(s, message));
  const z = BigInt(s.z);
  return {
    h: word((n - ((z * px) % n)) % n),
    v: 27 + Number(BigInt(s.py) & 1n),
    r: wordOfField(px),
    s: word((n - ((c * px) % n)) % n),
  };
}
