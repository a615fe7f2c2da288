import type { Logger, Metrics } from "@dseq/common";
import {
  DkgSession,
  type GroupInfo,
  type KeyShareStore,
  type PartyKey,
  type TssTransport,
} from "@dseq/mpc-tss";
import { tssDkgSessionId } from "./sessionIds.ts";
import type { TssValidator } from "./votingPower.ts";

export type RunTssDkgArgs = {
  chainId: bigint;
  span: bigint;
  validators: readonly TssValidator[];
  threshold: number;
  attempt: number;
  deadlineMs: number;
  /** Retransmission period of unacknowledged DKG messages (mpc-tss default 250 ms). */
  resendIntervalMs?: number;
};

export type RunTssDkgCtx = {
  key: PartyKey;
  transport: TssTransport;
  store: KeyShareStore;
  logger?: Logger;
  metrics?: Metrics;
};

/**
 * This node's part of one DKG for a span's set: the session id every member derives (chain id,
 * span, set, attempt), epoch = span. The share is sealed in the store before `result` resolves,
 * so a key the service reports is always one it can sign with after a restart. The session is
 * returned so the caller can stop it (it lingers after success to answer late peers).
 */
export function runTssDkg(
  ctx: RunTssDkgCtx,
  args: RunTssDkgArgs,
): { session: DkgSession; result: Promise<GroupInfo> } {
  const session = new DkgSession(
    {
      epoch: Number(args.span),
      members: args.validators.map((v) => v.party),
      threshold: args.threshold,
      sessionId: tssDkgSessionId(args.chainId, args.span, args.validators, args.attempt),
      deadlineMs: args.deadlineMs,
      ...(args.resendIntervalMs !== undefined ? { resendIntervalMs: args.resendIntervalMs } : {}),
    },
    {
      key: ctx.key,
      transport: ctx.transport,
      ...(ctx.logger ? { logger: ctx.logger } : {}),
      ...(ctx.metrics ? { metrics: ctx.metrics } : {}),
    },
  ).start();
  const result = session.result.then(async (r) => {
    const existing = ctx.store.get(r.group.epoch);
    if (existing?.group.groupKey !== r.group.groupKey) await ctx.store.put(r.keyShare);
    r.keyShare.signingShare.fill(0);
    return r.group;
  });
  return { session, result };
}
