import { concatBytes, utf8ToBytes } from "@dseq/common";
import { CONTEXT_STRING, Fn, frost, hashToScalar, Point } from "../suite.ts";

const DKG_DST = utf8ToBytes(`${CONTEXT_STRING}dkg`);

/**
 * Whether a round-1 proof of knowledge is valid (the frost-rs / noble DKG Schnorr proof:
 * c = H_dkg(id || φ0 || R), R = z·G − c·φ0). noble's `DKG.round2` is the gatekeeper and checks
 * every proof itself; it throws on the first bad one without saying whose. This check only
 * names the culprit after noble refused the set.
 */
export function isProofOfKnowledgeValid(
  identifier: string,
  commitment: readonly Uint8Array[],
  proof: Uint8Array,
): boolean {
  try {
    const c0 = commitment[0];
    if (!c0 || proof.length !== 65) return false;
    const phi = Point.fromBytes(c0);
    const R = Point.fromBytes(proof.subarray(0, 33));
    for (const p of [phi, R]) {
      p.assertValidity();
      if (p.is0()) return false;
    }
    for (const c of commitment) Point.fromBytes(c).assertValidity();
    const z = Fn.fromBytes(proof.subarray(33));
    const id = Fn.fromBytes(Buffer.from(identifier, "hex"));
    const c = hashToScalar(concatBytes(Fn.toBytes(id), phi.toBytes(true), R.toBytes(true)), { DST: DKG_DST });
    return R.equals(Point.BASE.multiplyUnsafe(z).subtract(phi.multiplyUnsafe(c)));
  } catch {
    return false;
  }
}

/** RFC 9591 Appendix C.2 vss_verify of one dealer's share, by noble (`validateSecret`). */
export function isShareValid(
  recipientIdentifier: string,
  share: Uint8Array,
  dealerCommitment: readonly Uint8Array[],
  threshold: number,
  max: number,
): boolean {
  try {
    frost.validateSecret(
      { identifier: recipientIdentifier, signingShare: share },
      {
        signers: { min: threshold, max },
        commitments: dealerCommitment.map((c) => c.slice()),
        verifyingShares: {},
      },
    );
    return true;
  } catch {
    return false;
  }
}
