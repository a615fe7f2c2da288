import type { Clock, Logger } from "@dseq/common";
import { certificateVotes, verifyCommitCertificate } from "./commitCertificate.ts";
import { conflictingCommitEvidence } from "./evidence.ts";
import { messageHeight } from "./inputBuffer.ts";
import type { VerifyFn } from "./signer.ts";
import { type CommitCertificate, type ConsensusMessage, type Evidence, MsgType } from "./types.ts";
import type { ValidatorSet } from "./validatorSet.ts";
import { verifyVote } from "./voteSet.ts";

export type StaleContext = {
  /** Recent commits by height, with the set that decided each. */
  readonly commits: ReadonlyMap<number, { certificate: CommitCertificate; validators: ValidatorSet }>;
  readonly chainId: bigint;
  readonly verify: VerifyFn;
  readonly log: Logger;
  readonly clock: Clock;
  /** When each height was last answered (bounded here). */
  readonly replies: Map<number, number>;
  readonly replyEveryMs: number;
  recordEvidence(ev: Evidence): void;
  broadcast(message: ConsensusMessage): void;
};

/**
 * A message of a height this node has decided: the sender is behind (answer with the
 * commit, rate-limited), or equivocates at a decided height (evidence), or holds a
 * conflicting certificate (safety is lost: evidence, loudly).
 */
export function onStaleMessage(ctx: StaleContext, message: ConsensusMessage): void {
  const h = messageHeight(message);
  const mine = ctx.commits.get(h);
  if (!mine) return;
  const { chainId, verify } = ctx;
  if (message.type === "certificate" && message.certificate.blockHash !== mine.certificate.blockHash) {
    if (verifyCommitCertificate(message.certificate, mine.validators, chainId, verify).ok) {
      ctx.log.error("conflicting commit certificate: safety of this height is lost", {
        height: h,
        mine: mine.certificate.blockHash,
        theirs: message.certificate.blockHash,
      });
      for (const ev of conflictingCommitEvidence(mine.certificate, message.certificate))
        ctx.recordEvidence(ev);
    }
    return;
  }
  // The sender decided this height as well: nothing to answer.
  if (message.type === "certificate") return;
  if (message.type === "vote") {
    const v = message.vote;
    const { certificate } = mine;
    if (
      v.type === MsgType.Precommit &&
      v.round === certificate.round &&
      v.blockHash !== certificate.blockHash
    ) {
      const ours = certificateVotes(certificate).find((x) => x.validator === v.validator);
      const val = mine.validators.get(v.validator);
      if (ours && val && verifyVote(v, chainId, val.publicKey, verify)) {
        ctx.recordEvidence({ type: "duplicateVote", validator: val.address, a: ours, b: v });
      }
    }
  }
  // Rate-limited answer: the straggler catches up from the certificate.
  const now = ctx.clock.now();
  if (now - (ctx.replies.get(h) ?? Number.NEGATIVE_INFINITY) < ctx.replyEveryMs) return;
  ctx.replies.set(h, now);
  if (ctx.replies.size > 64) ctx.replies.delete(ctx.replies.keys().next().value as number);
  ctx.broadcast({ type: "certificate", certificate: mine.certificate });
}
