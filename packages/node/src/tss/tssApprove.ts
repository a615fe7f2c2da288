import type { Hex, Logger } from "@dseq/common";
import type { ApproveFn, SignContext } from "@dseq/mpc-tss";
import type { TssEpochKey } from "./keyRotation.ts";
import { hasPowerQuorum } from "./votingPower.ts";

export const TssRefusal = {
  UnknownKey: "unknown_key",
  Power: "power",
  Digest: "digest",
  Policy: "policy",
  Rotation: "rotation",
} as const;
export type TssRefusal = (typeof TssRefusal)[keyof typeof TssRefusal];

export type TssApproveCtx = {
  /** The keys this node signs with now (the one L1 expects, and the pending one). */
  keyOf(groupKey: Hex): TssEpochKey | undefined;
  /** The caller's policy (the batch submitter rebuilds the message from its committed chain). */
  approve: ApproveFn;
  /** The new set's key this node holds a share of (a rotation must name it). */
  pendingKey?(): Hex | undefined;
  /** rotationDigest(newKey) as the inbox computes it, when the node knows the inbox. */
  rotationDigest?(newKey: Hex): Uint8Array;
  onRefusal(reason: TssRefusal, ctx: SignContext): void;
  logger?: Logger;
};

/**
 * The signer-side policy: a share only for a key this node signs with, a 32-byte digest, and a
 * signing set that holds more than 2/3 of that key's set's voting power (ADR 0150); then the
 * caller's own `approve`. A rotation request (`context.kind === "rotation"`) must name this
 * node's pending key, and match `rotationDigest(newKey)` when the node knows the inbox (ADR 0151).
 */
export function tssApprove(ctx: TssApproveCtx): ApproveFn {
  return async (message, sc) => {
    const key = ctx.keyOf(sc.groupKey);
    if (!key) return refuse(ctx, TssRefusal.UnknownKey, sc);
    if (message.length !== 32) return refuse(ctx, TssRefusal.Digest, sc);
    if (!hasPowerQuorum(key.validators, sc.signers)) return refuse(ctx, TssRefusal.Power, sc);
    if (sc.context.kind === "rotation" && !rotationMatches(ctx, message, sc.context.newKey)) {
      return refuse(ctx, TssRefusal.Rotation, sc);
    }
    const ok = await ctx.approve(message, sc);
    return ok === true ? true : refuse(ctx, TssRefusal.Policy, sc);
  };
}

function refuse(ctx: TssApproveCtx, reason: TssRefusal, sc: SignContext): false {
  ctx.onRefusal(reason, sc);
  ctx.logger?.warn("tss signing request refused", { reason, sid: sc.sessionId, coordinator: sc.coordinator });
  return false;
}

function rotationMatches(ctx: TssApproveCtx, message: Uint8Array, newKey: unknown): boolean {
  if (typeof newKey !== "string" || !/^0x0[23][0-9a-f]{64}$/.test(newKey)) return false;
  const pending = ctx.pendingKey?.();
  if (pending !== undefined && pending !== newKey) return false;
  if (ctx.rotationDigest) {
    const want = ctx.rotationDigest(newKey as Hex);
    if (want.length !== message.length || want.some((b, i) => b !== message[i])) return false;
  }
  return true;
}
