import { type Clock, realClock } from "@dseq/common";
import { P2pError, P2pErrorCode } from "./errors.ts";

/**
 * Gossipsub has no send-side backpressure: `publish` writes into every peer's stream buffer at
 * once. So publishing throttles itself here: a token bucket on messages and bytes per second,
 * a pause while any outbound gossip stream holds more than `highWaterMarkBytes`, and bounded
 * queues (consensus ahead of bulk) that refuse new messages when full.
 */
export type PublishThrottleOptions = {
  maxMessagesPerSecond: number;
  maxBytesPerSecond: number;
  /** Per lane; a full lane rejects new publishes with P2P_PUBLISH_QUEUE_FULL. */
  maxQueued: number;
  /** Pause publishing while an outbound stream buffers more than this. */
  highWaterMarkBytes: number;
  /** Longest pause for a slow peer's stream before publishing anyway. */
  maxDrainWaitMs: number;
};

export const defaultPublishThrottleOptions: PublishThrottleOptions = {
  maxMessagesPerSecond: 2_000,
  maxBytesPerSecond: 64 * 1024 * 1024,
  maxQueued: 4_096,
  highWaterMarkBytes: 4 * 1024 * 1024,
  maxDrainWaitMs: 1_000,
};

export type Lane = "priority" | "bulk";

export type PublishSink<T> = {
  send(item: T): Promise<number>;
  size(item: T): number;
  /** Largest outbound buffer now, and a way to wait until it drains. */
  backlog(): { bytes: number; drained(signal: AbortSignal): Promise<void> };
};

type Pending<T> = { item: T; resolve: (n: number) => void; reject: (e: unknown) => void };

export class PublishQueue<T> {
  private readonly opts: PublishThrottleOptions;
  private readonly sink: PublishSink<T>;
  private readonly clock: Clock;
  private readonly lanes: Record<Lane, Pending<T>[]> = { priority: [], bulk: [] };
  private msgTokens: number;
  private byteTokens: number;
  private lastRefill: number;
  private pumping = false;
  private readonly abort = new AbortController();
  /** Times publishing waited for a stream to drain. */
  drainWaits = 0;

  constructor(opts: PublishThrottleOptions, sink: PublishSink<T>, clock: Clock = realClock) {
    this.opts = opts;
    this.sink = sink;
    this.clock = clock;
    this.msgTokens = opts.maxMessagesPerSecond;
    this.byteTokens = opts.maxBytesPerSecond;
    this.lastRefill = clock.now();
  }

  get queued(): number {
    return this.lanes.priority.length + this.lanes.bulk.length;
  }

  enqueue(lane: Lane, item: T): Promise<number> {
    if (this.abort.signal.aborted) {
      return Promise.reject(new P2pError(P2pErrorCode.Stopped, "p2p host is stopped"));
    }
    const q = this.lanes[lane];
    if (q.length >= this.opts.maxQueued) {
      return Promise.reject(
        new P2pError(P2pErrorCode.PublishQueueFull, "publish queue is full", {
          details: { lane, max: this.opts.maxQueued },
        }),
      );
    }
    return new Promise((resolve, reject) => {
      q.push({ item, resolve, reject });
      if (!this.pumping) void this.pump();
    });
  }

  /** Rejects everything queued and stops. */
  close(): void {
    this.abort.abort(new P2pError(P2pErrorCode.Stopped, "p2p host is stopped"));
    for (const lane of [this.lanes.priority, this.lanes.bulk]) {
      for (const p of lane.splice(0)) p.reject(this.abort.signal.reason);
    }
  }

  private refill(): void {
    const now = this.clock.now();
    const dt = (now - this.lastRefill) / 1000;
    this.lastRefill = now;
    this.msgTokens = Math.min(
      this.opts.maxMessagesPerSecond,
      this.msgTokens + dt * this.opts.maxMessagesPerSecond,
    );
    this.byteTokens = Math.min(
      this.opts.maxBytesPerSecond,
      this.byteTokens + dt * this.opts.maxBytesPerSecond,
    );
  }

  /** Milliseconds until a message of `bytes` may go (0 = now). */
  private waitFor(bytes: number): number {
    this.refill();
    // A message larger than the whole bucket goes once the bucket is full.
    const needBytes = Math.min(bytes, this.opts.maxBytesPerSecond);
    const msgWait = this.msgTokens >= 1 ? 0 : ((1 - this.msgTokens) / this.opts.maxMessagesPerSecond) * 1000;
    const byteWait =
      this.byteTokens >= needBytes ? 0 : ((needBytes - this.byteTokens) / this.opts.maxBytesPerSecond) * 1000;
    return Math.max(msgWait, byteWait);
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    const signal = this.abort.signal;
    try {
      for (;;) {
        const lane = this.lanes.priority.length > 0 ? this.lanes.priority : this.lanes.bulk;
        const next = lane[0];
        if (!next || signal.aborted) return;
        const bytes = this.sink.size(next.item);
        const wait = this.waitFor(bytes);
        if (wait > 0) {
          await this.clock.sleep(Math.max(1, Math.ceil(wait)), signal);
          continue;
        }
        const backlog = this.sink.backlog();
        if (backlog.bytes > this.opts.highWaterMarkBytes) {
          this.drainWaits++;
          const t = AbortSignal.any([signal, AbortSignal.timeout(this.opts.maxDrainWaitMs)]);
          const timedOut = new Promise<void>((resolve) =>
            t.addEventListener("abort", () => resolve(), { once: true }),
          );
          await Promise.race([backlog.drained(t).catch(() => undefined), timedOut]);
          if (signal.aborted) return;
        }
        lane.shift();
        this.msgTokens -= 1;
        this.byteTokens -= Math.min(bytes, this.opts.maxBytesPerSecond);
        try {
          next.resolve(await this.sink.send(next.item));
        } catch (err) {
          next.reject(err);
        }
      }
    } catch {
      // aborted while sleeping: close() already rejected the queue
    } finally {
      this.pumping = false;
    }
  }
}
