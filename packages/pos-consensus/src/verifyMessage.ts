import { isMessageShape } from "./codec.ts";
import { verifyCommitCertificate } from "./commitCertificate.ts";
import { verifyProposalSignature } from "./evidence.ts";
import type { VerifyFn } from "./signer.ts";
import type { ConsensusMessage } from "./types.ts";
import type { ValidatorSet } from "./validatorSet.ts";
import { verifyVote } from "./voteSet.ts";

/**
 * Whether a message is well formed and signed by the given validator set: a vote or proposal
 * by a member with a valid signature, a certificate with valid +2/3. Never throws.
 */
export function verifyMessage(
  message: ConsensusMessage,
  set: ValidatorSet,
  chainId: bigint,
  verify: VerifyFn,
): boolean {
  if (!isMessageShape(message)) return false;
  switch (message.type) {
    case "vote": {
      const val = set.get(message.vote.validator);
      return val !== undefined && verifyVote(message.vote, chainId, val.publicKey, verify);
    }
    case "proposal": {
      const val = set.get(message.proposal.proposer);
      return val !== undefined && verifyProposalSignature(message.proposal, chainId, val.publicKey, verify);
    }
    case "certificate":
      return verifyCommitCertificate(message.certificate, set, chainId, verify).ok;
  }
}
