import { bytesToHex, errorMessage, type Hex, type Logger } from "@dseq/common";
import { BatchInboxArtifact, rotationDigest } from "@dseq/l1-contracts";
import type { ApproveFn } from "@dseq/mpc-tss";
import type { PublicClient } from "viem";

/** The `context.kind` of a key rotation signing request (`context.newKey` is the new key). */
export const ROTATION_CONTEXT_KIND = "rotation";

/** Why a signer refused a rotation share (dseq_rotation_refusals_total{reason}). */
export const RotationRefusal = {
  Kind: "kind",
  NoRotation: "no_rotation",
  NewKey: "new_key",
  OldKey: "old_key",
  L1: "l1",
  L1Key: "l1_key",
  Digest: "digest",
} as const;
export type RotationRefusal = (typeof RotationRefusal)[keyof typeof RotationRefusal];

/** The inbox's key state at L1's latest block: the key it verifies with and its epoch. */
export type InboxKeyState = { groupKey: Hex; epoch: bigint };

/** Reads BatchInbox.groupKey() and groupKeyEpoch() (the epoch rotationDigest is bound to). */
export async function readInboxKey(client: PublicClient, inbox: Hex): Promise<InboxKeyState> {
  const abi = BatchInboxArtifact.abi;
  const [groupKey, epoch] = await Promise.all([
    client.readContract({ address: inbox, abi, functionName: "groupKey" }) as Promise<Hex>,
    client.readContract({ address: inbox, abi, functionName: "groupKeyEpoch" }) as Promise<bigint>,
  ]);
  return { groupKey: groupKey.toLowerCase() as Hex, epoch };
}

export type RotationApproveCtx = {
  /** The inbox this node follows: the digest is bound to it and to the L1 chain. */
  domain: { l1ChainId: bigint | number; address: Hex };
  /** This node's own rotation (TssService.rotation()): undefined when it expects none. */
  rotation(): { from: Hex; to: Hex } | undefined;
  /** The inbox's key and epoch as this node reads them from L1 now. */
  inboxKey(): Promise<InboxKeyState>;
  onRefusal(reason: RotationRefusal): void;
  logger: Logger;
};

/**
 * Every signer's policy for a `rotateGroupKey` share (ADR 0159): the request is
 * `{kind: "rotation", newKey}` under the key L1 has; the signer accepts only when its own
 * TssService expects exactly that rotation (same old and new key), L1 still has the old key, and
 * the message is `rotationDigest(inbox, epoch, newKey)` at the epoch it reads from L1 itself.
 * A member that left the set expects no rotation (it was not in the new DKG) and refuses.
 */
export function rotationApprove(ctx: RotationApproveCtx): ApproveFn {
  const refuse = (reason: RotationRefusal, detail: string, sid: string): false => {
    ctx.onRefusal(reason);
    ctx.logger.warn("rotation share refused", { reason, detail, sid });
    return false;
  };
  return async (message, sc) => {
    if (sc.context.kind !== ROTATION_CONTEXT_KIND)
      return refuse(RotationRefusal.Kind, `kind ${String(sc.context.kind)}`, sc.sessionId);
    const own = ctx.rotation();
    if (!own) return refuse(RotationRefusal.NoRotation, "this node expects no rotation", sc.sessionId);
    const newKey = sc.context.newKey;
    if (typeof newKey !== "string" || newKey.toLowerCase() !== own.to.toLowerCase())
      return refuse(RotationRefusal.NewKey, `new key ${String(newKey).slice(0, 70)}`, sc.sessionId);
    if (sc.groupKey.toLowerCase() !== own.from.toLowerCase())
      return refuse(RotationRefusal.OldKey, "not signed by the key this node rotates from", sc.sessionId);
    let l1: InboxKeyState;
    try {
      l1 = await ctx.inboxKey();
    } catch (err) {
      return refuse(RotationRefusal.L1, `cannot read the inbox: ${errorMessage(err)}`, sc.sessionId);
    }
    if (l1.groupKey !== own.from.toLowerCase())
      return refuse(RotationRefusal.L1Key, "L1's key is not the one this rotation starts from", sc.sessionId);
    const want = rotationDigest(ctx.domain, l1.epoch, own.to).toLowerCase();
    if (bytesToHex(message) !== want)
      return refuse(RotationRefusal.Digest, `not the rotation digest at epoch ${l1.epoch}`, sc.sessionId);
    return true;
  };
}

/** One approve for the TSS service: rotation requests go to `rotation`, everything else to `other`. */
export function approveRotationOr(other: ApproveFn, rotation: ApproveFn): ApproveFn {
  return (message, sc) =>
    sc.context.kind === ROTATION_CONTEXT_KIND ? rotation(message, sc) : other(message, sc);
}
