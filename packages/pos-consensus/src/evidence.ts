import { hexToBytes } from "@dseq/common";
import { certificateVotes, verifyCommitCertificate } from "./commitCertificate.ts";
import { proposalSignBytes } from "./signBytes.ts";
import type { VerifyFn } from "./signer.ts";
import type { CommitCertificate, Evidence, Proposal } from "./types.ts";
import type { ValidatorSet } from "./validatorSet.ts";
import { verifyVote } from "./voteSet.ts";

/** A stable key, so one misbehaviour is reported once whichever order its halves came in. */
export function evidenceKey(e: Evidence): string {
  switch (e.type) {
    case "duplicateVote": {
      const [x, y] = [e.a.signature, e.b.signature].sort();
      return `dv:${e.validator}:${e.a.height}:${e.a.round}:${e.a.type}:${x}:${y}`;
    }
    case "conflictingProposal": {
      const [x, y] = [e.a.signature, e.b.signature].sort();
      return `cp:${e.validator}:${e.a.height}:${e.a.round}:${x}:${y}`;
    }
    case "conflictingCommit": {
      const [x, y] = [e.a.blockHash, e.b.blockHash].sort();
      return `cc:${e.height}:${x}:${y}`;
    }
  }
}

export function verifyProposalSignature(
  p: Proposal,
  chainId: bigint,
  publicKey: Uint8Array,
  verify: VerifyFn,
): boolean {
  try {
    return verify(proposalSignBytes(chainId, p), hexToBytes(p.signature), publicKey);
  } catch {
    return false;
  }
}

/**
 * Two certificates for different blocks at one height. Returns the conflicting-commit record
 * and, for every validator that precommitted both in the same round, duplicate-vote evidence.
 * Both certificates must already be verified against `validators`.
 */
export function conflictingCommitEvidence(a: CommitCertificate, b: CommitCertificate): Evidence[] {
  if (a.height !== b.height || a.blockHash === b.blockHash) return [];
  const va = new Map(certificateVotes(a).map((v) => [v.validator, v]));
  const both = certificateVotes(b).filter((v) => va.has(v.validator));
  const out: Evidence[] = [
    { type: "conflictingCommit", height: a.height, a, b, validators: both.map((v) => v.validator).sort() },
  ];
  if (a.round === b.round) {
    for (const vb of both)
      out.push({ type: "duplicateVote", validator: vb.validator, a: va.get(vb.validator)!, b: vb });
  }
  return out;
}

/** Checks that evidence is what it claims: both halves signed by the accused, and conflicting. */
export function verifyEvidence(
  e: Evidence,
  validators: ValidatorSet,
  chainId: bigint,
  verify: VerifyFn,
): boolean {
  switch (e.type) {
    case "duplicateVote": {
      const v = validators.get(e.validator);
      const { a, b } = e;
      return (
        v !== undefined &&
        a.validator === e.validator &&
        b.validator === e.validator &&
        a.type === b.type &&
        a.height === b.height &&
        a.round === b.round &&
        a.blockHash !== b.blockHash &&
        verifyVote(a, chainId, v.publicKey, verify) &&
        verifyVote(b, chainId, v.publicKey, verify)
      );
    }
    case "conflictingProposal": {
      const v = validators.get(e.validator);
      const { a, b } = e;
      return (
        v !== undefined &&
        a.proposer === e.validator &&
        b.proposer === e.validator &&
        a.height === b.height &&
        a.round === b.round &&
        (a.blockHash !== b.blockHash || a.polRound !== b.polRound) &&
        verifyProposalSignature(a, chainId, v.publicKey, verify) &&
        verifyProposalSignature(b, chainId, v.publicKey, verify)
      );
    }
    case "conflictingCommit":
      return (
        e.a.height === e.height &&
        e.b.height === e.height &&
        e.a.blockHash !== e.b.blockHash &&
        verifyCommitCertificate(e.a, validators, chainId, verify).ok &&
        verifyCommitCertificate(e.b, validators, chainId, verify).ok
      );
  }
}
