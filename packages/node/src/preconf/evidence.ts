import { DseqError, equalBytes } from "@dseq/common";
import { decodeFragment } from "../blockStream.ts";
import { NodeErrorCode } from "../errors.ts";
import type { FragmentEvidence } from "./store.ts";

/**
 * Checks fragment-equivocation evidence (ADR 0171) on its own: both fragments decode and
 * authenticate under `chainId`, name the same signer, height and seq, and differ. Throws a
 * DseqError("EVIDENCE_INVALID") otherwise, so anyone can verify what a node reports.
 */
export function verifyFragmentEvidence(e: FragmentEvidence, chainId: bigint): void {
  const bad = (why: string): never => {
    throw new DseqError(NodeErrorCode.EvidenceInvalid, `fragment evidence: ${why}`);
  };
  if (equalBytes(e.first, e.second)) bad("the two fragments are the same bytes");
  const a = decodeFragment(e.first, chainId);
  const b = decodeFragment(e.second, chainId);
  if (a.signer !== b.signer || a.signer !== e.signer.toLowerCase()) bad("signers differ");
  if (a.height !== b.height || a.height !== e.height) bad("heights differ");
  if (a.seq !== b.seq || a.seq !== e.seq) bad("positions differ");
}
