import type { Hex } from "@dseq/common";
import { isBlockShape, isCertificateShape } from "./codec.ts";
import { ConsensusError, ConsensusErrorCode } from "./errors.ts";
import type { VerifyFn } from "./signer.ts";
import { type Block, type CommitCertificate, MsgType, type Vote } from "./types.ts";
import type { ValidatorSet } from "./validatorSet.ts";
import { type VoteSet, verifyVote } from "./voteSet.ts";

/** The precommits of a certificate as votes, as they were signed. */
export function certificateVotes(cert: CommitCertificate): Vote[] {
  return cert.signatures.map((s) => ({
    type: MsgType.Precommit,
    height: cert.height,
    round: cert.round,
    blockHash: cert.blockHash,
    validator: s.validator,
    signature: s.signature,
  }));
}

/** Builds the certificate for `blockHash` from a precommit set that has +2/3 for it. */
export function makeCommitCertificate(precommits: VoteSet, blockHash: Hex): CommitCertificate {
  if (precommits.type !== MsgType.Precommit)
    throw new TypeError("a commit certificate is made of precommits");
  if (!precommits.hasTwoThirdsFor(blockHash)) {
    throw new ConsensusError(ConsensusErrorCode.NoQuorum, "no +2/3 precommits for the block", {
      details: { height: precommits.height, round: precommits.round, blockHash },
    });
  }
  return {
    height: precommits.height,
    round: precommits.round,
    blockHash,
    signatures: precommits
      .votesFor(blockHash)
      .map((v) => ({ validator: v.validator, signature: v.signature })),
  };
}

export type CertificateCheck =
  | { readonly ok: true; readonly power: number }
  | {
      readonly ok: false;
      readonly reason: "malformed" | "unknownValidator" | "duplicateSigner" | "badSignature" | "noQuorum";
      readonly validator?: Hex;
    };

/**
 * Anyone can check a certificate against the validator set of its height: every signature
 * must be a known validator's, valid and not repeated, and together they must hold more
 * than two thirds of the power.
 */
export function verifyCommitCertificate(
  cert: CommitCertificate,
  validators: ValidatorSet,
  chainId: bigint,
  verify: VerifyFn,
): CertificateCheck {
  if (!isCertificateShape(cert)) return { ok: false, reason: "malformed" };
  const seen = new Set<number>();
  let power = 0;
  for (const vote of certificateVotes(cert)) {
    const idx = validators.indexOf(vote.validator);
    if (idx === undefined) return { ok: false, reason: "unknownValidator", validator: vote.validator };
    if (seen.has(idx)) return { ok: false, reason: "duplicateSigner", validator: vote.validator };
    seen.add(idx);
    const val = validators.validators[idx]!;
    if (!verifyVote(vote, chainId, val.publicKey, verify)) {
      return { ok: false, reason: "badSignature", validator: vote.validator };
    }
    power += val.power;
  }
  if (!validators.hasQuorum(power)) return { ok: false, reason: "noQuorum" };
  return { ok: true, power };
}

/**
 * Checks a catch-up answer before anything of it is used: a well-formed certificate of
 * `height`, valid against that height's validators, for the very block that came with it.
 * Returns why it is not acceptable, or undefined when it is.
 */
export function checkCommitted(
  got: { readonly block: Block; readonly certificate: CommitCertificate },
  height: number,
  validators: ValidatorSet,
  chainId: bigint,
  verify: VerifyFn,
): string | undefined {
  const { block, certificate } = got;
  if (!isCertificateShape(certificate)) return "malformed certificate";
  if (!isBlockShape(block)) return "malformed block";
  if (certificate.height !== height) return "certificate of another height";
  if (block.hash.toLowerCase() !== certificate.blockHash.toLowerCase())
    return "block is not the certified one";
  const check = verifyCommitCertificate(certificate, validators, chainId, verify);
  return check.ok ? undefined : `certificate: ${check.reason}`;
}
