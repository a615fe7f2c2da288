import { bytesToHex, type Clock, type Hex, hexToBytes, type Logger } from "@dseq/common";
import {
  frost,
  type GroupInfo,
  type L1Signature,
  type PartyId,
  type SigningCoordinator,
  type TssTransport,
  toL1Signature,
} from "@dseq/mpc-tss";
import { coordinatorDelayMs, coordinatorOrder } from "./coordinatorOrder.ts";
import type { PendingSignatures } from "./pendingSignatures.ts";
import { sessionKey } from "./pendingSignatures.ts";
import { tssSignSessionId } from "./sessionIds.ts";
import { encodeSignedAnnouncement } from "./signedAnnouncement.ts";
import { NodeTssError, NodeTssErrorCode } from "./tssErrors.ts";
import { hasPowerQuorum, type TssValidator } from "./votingPower.ts";

export type TssSignature = {
  groupKey: Hex;
  epoch: number;
  digest: Uint8Array;
  /** RFC 9591 R(33) || z(32). */
  signature: Uint8Array;
  /** The five words the L1 verifier takes. */
  l1: L1Signature;
  /** Set when this node coordinated it. */
  signers?: PartyId[];
};

export type SignDigestCtx = {
  self: PartyId;
  transport: TssTransport;
  coordinator: SigningCoordinator;
  pending: PendingSignatures;
  clock: Clock;
  logger?: Logger;
  coordinatorSlotMs: number;
  onCoordinated?(ms: number, attempts: number): void;
};

export type SignDigestArgs = {
  group: GroupInfo;
  validators: readonly TssValidator[];
  digest: Uint8Array;
  /** JSON values only; passed to every signer's approve (not trusted by them). */
  context: Record<string, unknown>;
  /** The batch's designated coordinator (the span sequencer). */
  leader?: PartyId;
  deadlineMs: number;
};

export function verifyTssSignature(groupKey: Hex, digest: Uint8Array, signature: Uint8Array): boolean {
  try {
    return frost.verify(signature, digest, hexToBytes(groupKey));
  } catch {
    return false;
  }
}

/**
 * One digest signed by the group: the coordinator order is deterministic (leader first, then a
 * per-digest order); this node coordinates when its turn comes (position × slot) unless a
 * verified signature was announced first. The winner broadcasts the signature so nobody else
 * starts. Every member of the group runs this for the same digest; all get the same answer.
 */
export function signDigest(ctx: SignDigestCtx, args: SignDigestArgs): Promise<TssSignature> {
  const { group, digest } = args;
  const key = sessionKey(group.groupKey, digest);
  const existing = ctx.pending.get(key);
  if (existing) return existing.promise;
  const entry = ctx.pending.open(
    key,
    args.deadlineMs,
    () =>
      new NodeTssError(NodeTssErrorCode.SignTimeout, "no coordinator signed before the deadline", {
        details: { groupKey: group.groupKey, digest: bytesToHex(digest) },
      }),
  );
  const order = coordinatorOrder(group.participants, digest, args.leader);
  const delay = coordinatorDelayMs(order, ctx.self, ctx.coordinatorSlotMs);
  if (delay !== undefined) {
    const cancel = ctx.clock.setTimeout(() => {
      if (entry.settled) return;
      const started = ctx.clock.now();
      ctx.coordinator
        .sign({
          group,
          message: digest,
          context: args.context,
          sessionId: tssSignSessionId(group.groupKey, digest, ctx.self),
          deadlineMs: Math.max(1_000, args.deadlineMs - delay),
          quorum: (parties) => hasPowerQuorum(args.validators, parties),
        })
        .then((r) => {
          ctx.onCoordinated?.(ctx.clock.now() - started, r.attempts);
          ctx.transport.broadcast(
            encodeSignedAnnouncement({ groupKey: group.groupKey, digest, signature: r.signature }),
          );
          entry.resolve(result(group, digest, r.signature, r.signers));
        })
        .catch((err) => {
          if (!entry.settled)
            ctx.logger?.warn("tss coordination failed", {
              err: String(err),
              position: order.indexOf(ctx.self),
            });
        });
    }, delay);
    entry.onSettle(cancel);
  }
  return entry.promise;
}

export function result(
  group: GroupInfo,
  digest: Uint8Array,
  signature: Uint8Array,
  signers?: PartyId[],
): TssSignature {
  return {
    groupKey: group.groupKey,
    epoch: group.epoch,
    digest: digest.slice(),
    signature,
    l1: toL1Signature(signature, group.groupKey),
    ...(signers ? { signers } : {}),
  };
}
