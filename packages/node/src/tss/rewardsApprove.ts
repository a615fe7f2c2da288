import { bytesToHex, errorMessage, type Hex, type Logger } from "@dseq/common";
import type { ApproveFn } from "@dseq/mpc-tss";
import type { RewardCheckpoint } from "@dseq/sequencer-rotation";
import {
  checkpointFromJson,
  REWARDS_CONTEXT_KIND,
  rewardsDigest,
  sameCheckpoint,
  toL1Checkpoint,
} from "./rewardsCheckpoint.ts";

/** Why a signer refused a reward checkpoint share (dseq_rewards_refusals_total{reason}). */
export const RewardsRefusal = {
  Kind: "kind",
  BadCheckpoint: "bad_checkpoint",
  Digest: "digest",
  L1: "l1",
  NotNext: "not_next",
  NotCommitted: "not_committed",
  Mismatch: "mismatch",
} as const;
export type RewardsRefusal = (typeof RewardsRefusal)[keyof typeof RewardsRefusal];

/** The locking pool's reward state as read from L1 (`nextCheckpointId`, `lastRewardBlock`). */
export type RewardsTip = { nextCheckpointId: bigint; lastRewardBlock: bigint };

export type RewardsApproveCtx = {
  /** The pool this node follows: the digest is bound to it and to the L1 chain. */
  domain: { l1ChainId: bigint | number; pool: Hex };
  /** Checkpoint `index` as this node's own committed chain cut it; undefined if not (yet) cut. */
  checkpoint(index: number): Promise<RewardCheckpoint | undefined>;
  /** The pool's reward state as this node reads it from L1 now. */
  tip(): Promise<RewardsTip>;
  onRefusal(reason: RewardsRefusal): void;
  logger: Logger;
};

/**
 * Every validator's policy for a reward checkpoint share (ADR 0158): the request carries the
 * checkpoint (`context: {kind: "rewards", checkpoint}`); the signer checks the message is that
 * checkpoint's `rewardsDigest` for its own pool, that it is the next one L1 expects, and that its
 * own committed chain cut exactly that checkpoint (same range, ids and amounts). Anything else
 * is refused.
 */
export function rewardsApprove(ctx: RewardsApproveCtx): ApproveFn {
  const refuse = (reason: RewardsRefusal, detail: string, sid: string): false => {
    ctx.onRefusal(reason);
    ctx.logger.warn("reward checkpoint share refused", { reason, detail, sid });
    return false;
  };
  return async (message, sc) => {
    if (sc.context.kind !== REWARDS_CONTEXT_KIND)
      return refuse(RewardsRefusal.Kind, `kind ${String(sc.context.kind)}`, sc.sessionId);
    const cp = checkpointFromJson(sc.context.checkpoint);
    if (!cp) return refuse(RewardsRefusal.BadCheckpoint, "malformed checkpoint", sc.sessionId);
    if (bytesToHex(message) !== rewardsDigest(ctx.domain, cp).toLowerCase())
      return refuse(RewardsRefusal.Digest, "message is not the checkpoint's digest", sc.sessionId);
    let tip: RewardsTip;
    try {
      tip = await ctx.tip();
    } catch (err) {
      return refuse(RewardsRefusal.L1, `cannot read the pool: ${errorMessage(err)}`, sc.sessionId);
    }
    if (cp.checkpointId !== tip.nextCheckpointId || cp.fromBlock !== tip.lastRewardBlock + 1n)
      return refuse(
        RewardsRefusal.NotNext,
        `checkpoint ${cp.checkpointId} from ${cp.fromBlock}; L1 expects ${tip.nextCheckpointId} from ${tip.lastRewardBlock + 1n}`,
        sc.sessionId,
      );
    if (cp.checkpointId > BigInt(Number.MAX_SAFE_INTEGER))
      return refuse(RewardsRefusal.NotCommitted, `checkpoint ${cp.checkpointId}`, sc.sessionId);
    const own = await ctx.checkpoint(Number(cp.checkpointId));
    if (!own)
      return refuse(
        RewardsRefusal.NotCommitted,
        `checkpoint ${cp.checkpointId} is not cut on this node's chain`,
        sc.sessionId,
      );
    if (!sameCheckpoint(toL1Checkpoint(own), cp))
      return refuse(
        RewardsRefusal.Mismatch,
        `checkpoint ${cp.checkpointId} differs from this node's (blocks ${own.fromHeight}..${own.toHeight})`,
        sc.sessionId,
      );
    return true;
  };
}

/**
 * One approve for the TSS service: reward checkpoint requests go to `rewards`, everything else
 * to `other` (the batch policy, which refuses any kind but "batch").
 */
export function approveByKind(other: ApproveFn, rewards: ApproveFn | undefined): ApproveFn {
  if (!rewards) return other;
  return (message, sc) =>
    sc.context.kind === REWARDS_CONTEXT_KIND ? rewards(message, sc) : other(message, sc);
}
