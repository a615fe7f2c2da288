import { errorMessage, type Hex, type Logger } from "@dseq/common";
import { type ConsensusInput, type ConsensusState, step } from "./consensusCore.ts";
import type { DriverMetrics } from "./driverMetrics.ts";
import type { EvidencePool } from "./evidencePool.ts";
import { isOwnInput } from "./inputBuffer.ts";
import type { OwnMessages } from "./rebroadcast.ts";
import type { WalEntry } from "./wal.ts";

export type ReplayContext = {
  readonly metrics: DriverMetrics;
  readonly log: Logger;
  /** This node's validator address (null: not a validator). */
  readonly self: Hex | null;
  readonly evidence: EvidencePool;
  readonly own: OwnMessages;
  markSeen(input: ConsensusInput, height: number): void;
};

/**
 * One WAL record on start: the state after it, or undefined when it does not apply. A record
 * that does not decode, or that the state machine throws on, is skipped loudly: one bad record
 * must not keep the node from starting.
 */
export function replayWalRecord(
  ctx: ReplayContext,
  state: ConsensusState,
  rec: WalEntry,
  height: number,
): ConsensusState | undefined {
  if (rec.kind === "undecodable") {
    ctx.metrics.walSkipped.inc({ reason: "undecodable" });
    ctx.log.error("WAL record does not decode: skipped", { offset: rec.offset, reason: rec.reason });
    return undefined;
  }
  if (rec.kind !== "input" || rec.height !== height) return undefined;
  let r: ReturnType<typeof step>;
  try {
    r = step(state, rec.input);
  } catch (err) {
    ctx.metrics.walSkipped.inc({ reason: "step" });
    ctx.log.error("WAL record failed on replay: skipped", {
      height,
      input: String((rec.input as { type?: unknown })?.type),
      err: errorMessage(err),
    });
    return undefined;
  }
  for (const e of r.effects) if (e.type === "evidence") ctx.evidence.add(e.evidence);
  if (isOwnInput(rec.input, ctx.self)) ctx.own.remember(rec.input);
  ctx.markSeen(rec.input, height);
  return r.state;
}

/** Replays the WAL records of `height` onto its fresh state; `replayed` counts those applied. */
export function replayWal(
  ctx: ReplayContext,
  state: ConsensusState,
  records: readonly WalEntry[],
  height: number,
): { state: ConsensusState; replayed: number } {
  let replayed = 0;
  for (const rec of records) {
    const next = replayWalRecord(ctx, state, rec, height);
    if (next === undefined) continue;
    state = next;
    replayed++;
  }
  return { state, replayed };
}
