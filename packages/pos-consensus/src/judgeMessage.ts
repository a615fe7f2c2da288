import type { Hex } from "@dseq/common";
import { isMessageShape } from "./codec.ts";
import type { Verdict } from "./consensusApp.ts";
import type { ConsensusInput, ConsensusState } from "./consensusCore.ts";
import type { DriverMetrics } from "./driverMetrics.ts";
import {
  type FutureBuffer,
  messageHeight,
  messageKey,
  messageRound,
  messageToInput,
  type SeenSet,
} from "./inputBuffer.ts";
import type { VerifyFn } from "./signer.ts";
import type { ConsensusMessage } from "./types.ts";
import type { ValidatorSet, ValidatorSource } from "./validatorSet.ts";
import { verifyMessage } from "./verifyMessage.ts";

export type JudgeContext = {
  readonly chainId: bigint;
  readonly verify: VerifyFn;
  readonly maxRoundsAhead: number;
  /** Delay of a catch-up attempt triggered by a message of the next height. */
  readonly rebroadcastMs: number;
  readonly seen: SeenSet;
  readonly future: FutureBuffer;
  readonly metrics: DriverMetrics;
  readonly validators: ValidatorSource;
  readonly catchUp: { schedule(delay: number): void; noteDecided(height: number): void };
  /** A message of a decided height (see onStaleMessage). */
  onStale(message: ConsensusMessage): void;
  /** Queues an accepted input of the current height for the loop. */
  enqueue(input: ConsensusInput, height: number): void;
};

/**
 * Judges one inbound message against the current height's state and, when accepted, takes it:
 * queued for the loop (current height) or buffered (next height). "reject": malformed, or not
 * signed by a validator of its height. "ignore": signed content already taken, a decided
 * height, too far ahead, or over a buffer or per-sender bound.
 */
export function judgeMessage(ctx: JudgeContext, state: ConsensusState, message: ConsensusMessage): Verdict {
  if (!isMessageShape(message)) return verdict(ctx, "reject", "malformed");
  const h = messageHeight(message);
  const cur = state.height;
  if (h < cur) {
    ctx.onStale(message);
    return verdict(ctx, "ignore", "stale");
  }
  const key = messageKey(ctx.chainId, message);
  if (ctx.seen.has(key)) return verdict(ctx, "ignore", "duplicate");
  if (h > cur) return judgeFuture(ctx, state, message, h, key);
  // Cheap checks before anything reaches the WAL: known signer, valid signature (cached).
  if (!verifyMessage(message, state.validators.set, ctx.chainId, ctx.verify))
    return verdict(ctx, "reject", "precheck");
  if (messageRound(message) > Math.max(state.round, 0) + ctx.maxRoundsAhead)
    return verdict(ctx, "ignore", "roundTooFar");
  // A proposal of a decided height changes nothing; its proposer may not even be known any more
  // (the application moves its schedule to the next height at the commit).
  if (message.type === "proposal" && state.decision !== null) return verdict(ctx, "ignore", "decided");
  // The core would refuse it after the WAL write: refuse it before.
  if (
    message.type === "proposal" &&
    state.validators.proposer(message.proposal.round) !== message.proposal.proposer
  )
    return verdict(ctx, "reject", "wrongProposer");
  if (!ctx.seen.withinQuota(h, message)) return verdict(ctx, "ignore", "quota");
  ctx.seen.add(key, h, message);
  ctx.enqueue(messageToInput(message), h);
  return "accept";
}

/**
 * A message of a later height. Only one verified against its height's validators moves the
 * highest height seen (and so catch-up); only one of the next height is buffered, within the
 * byte and per-sender bounds. When that set is not known yet, nothing is believed: one
 * catch-up attempt is scheduled (its answer is verified) and the message is ignored.
 */
function judgeFuture(
  ctx: JudgeContext,
  state: ConsensusState,
  message: ConsensusMessage,
  h: number,
  key: Hex,
): Verdict {
  const cur = state.height;
  const set = knownValidatorSet(ctx.validators, h);
  if (!set) {
    ctx.catchUp.schedule(ctx.rebroadcastMs);
    return verdict(ctx, "ignore", "noValidatorSet");
  }
  if (!verifyMessage(message, set, ctx.chainId, ctx.verify)) return verdict(ctx, "reject", "precheck");
  // A certificate for h means h is decided; any other message of h means h - 1 is.
  ctx.catchUp.noteDecided(message.type === "certificate" ? h : h - 1);
  ctx.catchUp.schedule(h > cur + 1 ? 0 : ctx.rebroadcastMs);
  if (h > cur + 1) return verdict(ctx, "ignore", "tooFarAhead");
  if (!ctx.seen.withinQuota(h, message) || !ctx.future.add(message, h))
    return verdict(ctx, "ignore", "bufferFull");
  ctx.seen.add(key, h, message);
  ctx.metrics.futureBytes.set(ctx.future.bytes);
  return "accept";
}

/** The validator set of `height` when the source knows it now (synchronously). */
function knownValidatorSet(validators: ValidatorSource, height: number): ValidatorSet | undefined {
  try {
    const hv = validators.forHeight(height);
    if (typeof (hv as Promise<unknown>).then === "function") {
      (hv as Promise<unknown>).catch(() => {});
      return undefined;
    }
    return (hv as { set: ValidatorSet }).set;
  } catch {
    return undefined;
  }
}

function verdict(ctx: Pick<JudgeContext, "metrics">, v: Verdict, reason: string): Verdict {
  if (v === "reject") ctx.metrics.rejected.inc({ reason });
  else ctx.metrics.ignored.inc({ reason });
  return v;
}
