import { type Clock, realClock } from "@dseq/common";
import { encodeBatch } from "./wire.ts";

export type GossipBatcherOptions = {
  /** Flush when the encoded batch would exceed this many bytes (keep it under the topic limit). */
  maxBatchBytes: number;
  maxBatchItems: number;
  /** Flush at most this long after the first item arrived. */
  maxDelayMs: number;
};

export const defaultGossipBatcherOptions: GossipBatcherOptions = {
  maxBatchBytes: 256 * 1024,
  maxBatchItems: 1_024,
  maxDelayMs: 50,
};

/**
 * Packs items (transactions) into RLP-list batches so the network carries one gossip message per
 * batch, never one per transaction. `publish` receives each encoded batch; decode it on the
 * receiving side with `decodeBatch`.
 */
export class GossipBatcher {
  private readonly opts: GossipBatcherOptions;
  private readonly publish: (batch: Uint8Array, items: number) => void;
  private readonly clock: Clock;
  private items: Uint8Array[] = [];
  private bytes = 0;
  private cancelTimer: (() => void) | undefined;

  constructor(
    opts: GossipBatcherOptions,
    publish: (batch: Uint8Array, items: number) => void,
    clock: Clock = realClock,
  ) {
    this.opts = opts;
    this.publish = publish;
    this.clock = clock;
  }

  get pending(): number {
    return this.items.length;
  }

  add(item: Uint8Array): void {
    // 9 bytes covers the RLP header of any item and of the list growing past a size boundary.
    const cost = item.length + 9;
    if (this.items.length > 0 && this.bytes + cost > this.opts.maxBatchBytes) this.flush();
    this.items.push(item);
    this.bytes += cost;
    if (this.items.length >= this.opts.maxBatchItems || this.bytes >= this.opts.maxBatchBytes) {
      this.flush();
    } else if (!this.cancelTimer) {
      this.cancelTimer = this.clock.setTimeout(() => this.flush(), this.opts.maxDelayMs);
    }
  }

  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.bytes = 0;
    this.publish(encodeBatch(items), items.length);
  }
}
