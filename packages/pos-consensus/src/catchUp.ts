import type { Clock, Logger } from "@dseq/common";
import { checkCommitted } from "./commitCertificate.ts";
import type { BlockFetcher } from "./consensusApp.ts";
import type { ConsensusInput, ConsensusState } from "./consensusCore.ts";
import type { DriverMetrics } from "./driverMetrics.ts";
import { messageKey, type SeenSet } from "./inputBuffer.ts";
import type { VerifyFn } from "./signer.ts";

export type CatchUpContext = {
  readonly clock: Clock;
  readonly fetcher: BlockFetcher;
  readonly chainId: bigint;
  readonly verify: VerifyFn;
  readonly seen: SeenSet;
  readonly metrics: DriverMetrics;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** The height's state (undefined before start). */
  state(): ConsensusState | undefined;
  /** Whether the driver stopped. */
  halted(): boolean;
  /** Runs a call beside the loop (see the driver's task). */
  task(fn: () => Promise<void>, what: string): void;
  /** Runs `fn` after a backoff if still at `height`. */
  later(fn: () => void, height: number, attempt: number): void;
  pushInternal(input: ConsensusInput): void;
};

/**
 * Fetching decided heights from peers while this node is behind. At most one attempt is
 * scheduled or in flight; its answer is verified against the height's validator set before
 * it reaches the loop's own queue (as a certificate and a block input).
 */
export class CatchUp {
  private readonly ctx: CatchUpContext;
  private attempt = 0;
  /**
   * The last fetch brought a verified commit: fetch the next height at once too. A node
   * several spans behind cannot verify the heights peers claim (their sets are not known yet),
   * so verified answers, not claims, keep it going; an empty answer stops it.
   */
  private momentum = false;
  private inFlight = false;
  /** Highest height some peer's message showed the network to be at: catch up while below. */
  private highestSeen = 0;
  private timer: (() => void) | undefined;

  constructor(ctx: CatchUpContext) {
    this.ctx = ctx;
  }

  /** A verified message showed `height` to be decided. */
  noteDecided(height: number): void {
    if (height > this.highestSeen) this.highestSeen = height;
  }

  cancel(): void {
    this.timer?.();
    this.timer = undefined;
  }

  /** The height is over: no attempt pending, backoff reset. */
  leaveHeight(): void {
    this.cancel();
    this.attempt = 0;
  }

  /** Still behind what peers showed: fetch the next decided block now, not at the next gossip. */
  enterHeight(height: number): void {
    if (this.highestSeen >= height || this.momentum) this.schedule(0);
  }

  schedule(delay: number): void {
    const ctx = this.ctx;
    const state = ctx.state();
    if (this.inFlight || this.timer || ctx.halted() || state?.decision) return;
    const height = state!.height;
    this.timer = ctx.clock.setTimeout(() => {
      this.timer = undefined;
      if (ctx.state()?.height !== height || ctx.halted()) return;
      this.inFlight = true;
      ctx.task(async () => {
        try {
          await this.fetch(height);
        } finally {
          this.inFlight = false;
        }
      }, "catchUp");
    }, delay);
  }

  private async fetch(height: number): Promise<void> {
    const ctx = this.ctx;
    const got = await ctx.fetcher.fetchCommitted(height, ctx.signal);
    if (!got) this.momentum = false;
    const state = ctx.state();
    if (!got || state?.height !== height) return;
    const { chainId, verify } = ctx;
    const problem = checkCommitted(got, height, state.validators.set, chainId, verify);
    if (problem !== undefined) {
      ctx.metrics.catchUpRejected.inc();
      ctx.log.warn("catch-up answer rejected", { height, reason: problem, source: got.source });
      if (got.source !== undefined) ctx.fetcher.penalize?.(got.source, problem);
      const attempt = this.attempt++;
      ctx.later(() => this.schedule(0), height, attempt);
      return;
    }
    this.momentum = true;
    // Verified: straight to the loop's own queue (it cannot be pushed out by gossip).
    const certificate = { type: "certificate", certificate: got.certificate } as const;
    ctx.seen.add(messageKey(chainId, certificate), height, certificate);
    ctx.pushInternal({ type: "certificate", certificate: got.certificate });
    ctx.pushInternal({ type: "block", height, block: got.block });
  }
}
