import type { ConsensusInput } from "./consensusCore.ts";
import type { DriverTimers } from "./driverTimers.ts";
import { messageRound } from "./inputBuffer.ts";
import type { CommitCertificate, ConsensusMessage } from "./types.ts";

/** The node's own signed messages of the current height, kept to be sent again. */
export class OwnMessages {
  private list: ConsensusMessage[] = [];

  get messages(): readonly ConsensusMessage[] {
    return this.list;
  }

  remember(input: ConsensusInput): void {
    if (input.type === "vote") this.list.push({ type: "vote", vote: input.vote });
    else if (input.type === "proposal")
      this.list.push({ type: "proposal", proposal: input.proposal, block: input.block });
  }

  /** Entering `round`: rounds before the previous one no longer help anyone. */
  enterRound(round: number): void {
    this.list = this.list.filter((msg) => messageRound(msg) >= round - 1);
  }

  clear(): void {
    this.list = [];
  }
}

export type RebroadcastContext = {
  readonly timers: DriverTimers;
  readonly everyMs: number;
  readonly own: OwnMessages;
  /** Height being decided (undefined before start). */
  height(): number | undefined;
  halted(): boolean;
  /** The certificate of a recent commit. */
  certificateOf(height: number): CommitCertificate | undefined;
  broadcast(message: ConsensusMessage): void;
};

/**
 * Every `everyMs` while `height` lasts: the node's own messages of the height and the
 * certificate of the previous one go out again (gossip drops; a peer that restarted or fell
 * behind needs them).
 */
export function scheduleRebroadcast(ctx: RebroadcastContext, height: number): void {
  ctx.timers.after(ctx.everyMs, () => {
    if (ctx.halted() || ctx.height() !== height) return;
    for (const msg of ctx.own.messages) ctx.broadcast(msg);
    const prev = ctx.certificateOf(height - 1);
    if (prev) ctx.broadcast({ type: "certificate", certificate: prev });
    scheduleRebroadcast(ctx, height);
  });
}
