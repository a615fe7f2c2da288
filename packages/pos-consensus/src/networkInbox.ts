import { isMessageShape } from "./codec.ts";
import type { Verdict } from "./consensusApp.ts";
import type { ConsensusInput, ConsensusState } from "./consensusCore.ts";
import type { DriverMetrics } from "./driverMetrics.ts";
import type { ConsensusDriverOptions } from "./driverOptions.ts";
import { FutureBuffer, messageKey, messageToInput, SeenSet } from "./inputBuffer.ts";
import { type JudgeContext, judgeMessage } from "./judgeMessage.ts";
import { NetworkQueue } from "./networkQueue.ts";
import type { ConsensusMessage } from "./types.ts";

export type InboxOptions = Required<
  Pick<
    ConsensusDriverOptions,
    | "queueSize"
    | "futureBufferSize"
    | "futureBufferBytes"
    | "futureBufferPerSender"
    | "futureBufferPerSenderBytes"
    | "seenMessages"
  >
>;

export type InboxContext = Omit<JudgeContext, "seen" | "future" | "enqueue"> & {
  readonly metrics: DriverMetrics;
  /** An input was queued: the loop should run. */
  onQueued(): void;
};

/**
 * Everything the driver holds of inbound network messages, bounded (ADR 0056): the queue of
 * accepted inputs of the current height (full: the oldest is dropped and forgotten), the
 * buffer of the next height's messages, and the set of signed content already taken.
 */
export class NetworkInbox {
  readonly seen: SeenSet;
  private readonly future: FutureBuffer;
  private readonly queue: NetworkQueue;
  private readonly ctx: InboxContext;
  private readonly judgeCtx: JudgeContext;

  constructor(opts: InboxOptions, ctx: InboxContext) {
    this.ctx = ctx;
    this.queue = new NetworkQueue(opts.queueSize);
    this.future = new FutureBuffer({
      maxBytes: opts.futureBufferBytes,
      maxCount: opts.futureBufferSize,
      perSenderCount: opts.futureBufferPerSender,
      perSenderBytes: opts.futureBufferPerSenderBytes,
    });
    this.seen = new SeenSet({ maxKeys: opts.seenMessages });
    this.judgeCtx = {
      ...ctx,
      seen: this.seen,
      future: this.future,
      enqueue: (input, height) => {
        this.push(input, height);
        ctx.onQueued();
      },
    };
  }

  /** Inputs waiting for the loop. */
  get length(): number {
    return this.queue.length;
  }

  /** See judgeMessage: judges `message` against `state` and takes it when accepted. */
  judge(state: ConsensusState, message: ConsensusMessage): Verdict {
    return judgeMessage(this.judgeCtx, state, message);
  }

  /** The next queued input, oldest first. */
  next(): ConsensusInput | undefined {
    const input = this.queue.shift();
    if (input) this.ctx.metrics.queue.set(this.queue.length);
    return input;
  }

  /** Records a message the loop took another way (own, replayed), so a copy is ignored. */
  markSeen(input: ConsensusInput, height: number): void {
    if (input.type !== "vote" && input.type !== "proposal" && input.type !== "certificate") return;
    const msg = input as ConsensusMessage;
    if (!isMessageShape(msg)) return;
    this.seen.add(messageKey(this.ctx.chainId, msg), height, msg);
  }

  /** The next height begins: what was seen below it is forgotten. */
  leaveHeight(height: number): void {
    this.queue.compact();
    this.seen.prune(height);
  }

  /** `height` has begun: its buffered messages join the queue. */
  enterHeight(height: number): void {
    for (const msg of this.future.take(height)) this.push(messageToInput(msg), height);
    this.ctx.metrics.futureBytes.set(this.future.bytes);
  }

  private push(input: ConsensusInput, height: number): void {
    const dropped = this.queue.push(input);
    if (dropped) {
      // Dropped unseen: a later copy (a rebroadcast) must be taken again.
      this.seen.forget(dropped, height, this.ctx.chainId);
      this.ctx.metrics.dropped.inc();
    }
    this.ctx.metrics.queue.set(this.queue.length);
  }
}
