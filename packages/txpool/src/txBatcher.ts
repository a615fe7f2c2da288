import { type Clock, realClock } from "@dseq/common";

export type TxBatcherOptions = {
  /** Most transactions in one batch. */
  maxTxs: number;
  /** Most bytes (sum of raw transactions) in one batch; keep under the gossip message limit. */
  maxBytes: number;
  /** Longest a transaction waits for company before its batch goes. */
  maxDelayMs: number;
};

export const defaultTxBatcherOptions: TxBatcherOptions = {
  maxTxs: 256,
  maxBytes: 512 * 1024,
  maxDelayMs: 50,
};

/**
 * Groups transactions for forwarding (gossip sends batches, never one message per
 * transaction): a batch goes when it is full by count or size, or `maxDelayMs` after its first
 * transaction. The pool knows no network: the node pushes `txpool.added` raws in and sends
 * what comes out. `onBatch` is called synchronously and must not throw.
 */
export class TxBatcher {
  private readonly opts: TxBatcherOptions;
  private readonly clock: Clock;
  private readonly onBatch: (raws: Uint8Array[]) => void;
  private batch: Uint8Array[] = [];
  private bytes = 0;
  private cancelTimer: (() => void) | undefined;

  constructor(
    opts: Partial<TxBatcherOptions>,
    modules: { clock?: Clock },
    onBatch: (raws: Uint8Array[]) => void,
  ) {
    this.opts = { ...defaultTxBatcherOptions, ...opts };
    this.clock = modules.clock ?? realClock;
    this.onBatch = onBatch;
  }

  push(raw: Uint8Array): void {
    if (this.batch.length > 0 && this.bytes + raw.length > this.opts.maxBytes) this.flush();
    this.batch.push(raw);
    this.bytes += raw.length;
    if (this.batch.length >= this.opts.maxTxs || this.bytes >= this.opts.maxBytes) this.flush();
    else if (!this.cancelTimer)
      this.cancelTimer = this.clock.setTimeout(() => this.flush(), this.opts.maxDelayMs);
  }

  /** Sends what is waiting now. */
  flush(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (this.batch.length === 0) return;
    const out = this.batch;
    this.batch = [];
    this.bytes = 0;
    this.onBatch(out);
  }

  /** Sends what is waiting and stops the timer. */
  stop(): void {
    this.flush();
  }
}
