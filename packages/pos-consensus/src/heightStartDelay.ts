import { errorMessage, type Logger } from "@dseq/common";
import type { ConsensusApp } from "./consensusApp.ts";

export type StartDelayContext = {
  readonly app: Pick<ConsensusApp, "startTime">;
  readonly log: Logger;
  readonly commitDelayMs: number;
  readonly maxStartDelayMs: number;
  readonly clock: { now(): number };
};

/** The driver owns the wait before a height (ADR 0057); the app only names the time. */
export function startDelayFor(ctx: StartDelayContext, height: number): number {
  let at: number | undefined;
  try {
    at = ctx.app.startTime?.(height);
  } catch (err) {
    ctx.log.warn("startTime failed: starting the height at once", { height, err: errorMessage(err) });
    return 0;
  }
  const { ms, capped } = heightStartDelay(at, ctx.clock.now(), ctx);
  if (capped) ctx.log.warn("startTime too far ahead: capped", { height, startTime: at, waitMs: ms });
  return ms;
}

/**
 * How long to wait after a commit before entering the next height: until `startTime` (the
 * application's `startTime(height)`, driver clock ms) when it names one, capped at
 * `maxStartDelayMs` so a bad answer cannot stall the chain; a past time or NaN means at once;
 * no time falls back to `commitDelayMs`.
 */
export function heightStartDelay(
  startTime: number | undefined,
  now: number,
  opts: { readonly commitDelayMs: number; readonly maxStartDelayMs: number },
): { ms: number; capped: boolean } {
  if (startTime === undefined) return { ms: Math.max(0, opts.commitDelayMs), capped: false };
  if (typeof startTime !== "number" || Number.isNaN(startTime)) return { ms: 0, capped: false };
  const wait = startTime - now;
  if (wait > opts.maxStartDelayMs) return { ms: opts.maxStartDelayMs, capped: true };
  return { ms: Math.max(0, wait), capped: false };
}
