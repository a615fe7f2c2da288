import type { Hex, Logger } from "@dseq/common";
import type { ApproveFn, SignContext } from "@dseq/mpc-tss";
import type { TssEpochKey } from "./keyRotation.ts";
import { hasPowerQuorum } from "./votingPower.ts";

export const TssRefusal = {
  UnknownKey: "unknown_key",
  Power: "power",
  Digest: "digest",
  Policy: "policy",
} as const;
export type TssRefusal = (typeof TssRefusal)[keyof typeof TssRefusal];

export type TssApproveCtx = {
  /** The keys this node signs with now (the one L1 expects, and the pending one). */
  keyOf(groupKey: Hex): TssEpochKey | undefined;
  /** The caller's policy (the batch submitter rebuilds the message from its committed chain). */
  approve: ApproveFn;
  onRefusal(reason: TssRefusal, ctx: SignContext): void;
  logger?: Logger;
};

/**
 * The signer-side policy: a share only for a key this node signs with, a 32-byte digest, and a
 * signing set that holds more than 2/3 of that key's set's voting power (ADR 0150); then the
 * caller's own `approve`.
 */
export function tssApprove(ctx: TssApproveCtx): ApproveFn {
  return async (message, sc) => {
    const key = ctx.keyOf(sc.groupKey);
    if (!key) return refuse(ctx, TssRefusal.UnknownKey, sc);
    if (message.length !== 32) return refuse(ctx, TssRefusal.Digest, sc);
    if (!hasPowerQuorum(key.validators, sc.signers)) return refuse(ctx, TssRefusal.Power, sc);
    const ok = await ctx.approve(message, sc);
    return ok === true ? true : refuse(ctx, TssRefusal.Policy, sc);
  };
}

function refuse(ctx: TssApproveCtx, reason: TssRefusal, sc: SignContext): false {
  ctx.onRefusal(reason, sc);
  ctx.logger?.warn("tss signing request refused", { reason, sid: sc.sessionId, coordinator: sc.coordinator });
  return false;
}
