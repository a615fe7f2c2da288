import type { Clock, Logger } from "@dseq/common";
import { defaultGossipBatcherOptions, encodeBatch, GossipBatcher } from "@dseq/p2p";
import type { PooledTx } from "@dseq/txpool";

export type TxGossipOptions = {
  /** Retries of a batch that reached no peer (no mesh yet, all peers down). */
  retries: number;
  retryDelayMs: number;
  /** Transactions still pooled this long after arrival are announced again (lost gossip, restarted peers). */
  reannounceAfterMs: number;
  reannounceEveryMs: number;
  /** Most transactions announced again per round. */
  reannounceMax: number;
};

export const defaultTxGossipOptions: TxGossipOptions = {
  retries: 20,
  retryDelayMs: 250,
  reannounceAfterMs: 4_000,
  reannounceEveryMs: 4_000,
  reannounceMax: 2_048,
};

export type TxGossipModules = {
  publish(batch: Uint8Array): Promise<number>;
  /** The pool's transactions worth announcing again (the node gives its pending ones). */
  pooled(): Iterable<PooledTx>;
  clock: Clock;
  logger: Logger;
};

/**
 * Transactions go to the other nodes in RLP batches (never one gossip message per
 * transaction). `add` resolves once the batch holding the transaction reached at least one
 * peer (or retries ran out), so an RPC reply means the transaction left this process. Every
 * pool keeps a transaction until a committed block includes it, and transactions still pooled
 * after a while are announced again: a message lost before the mesh formed, or a peer that
 * restarted with an empty pool, cannot strand a sender behind a nonce gap.
 */
export class TxGossip {
  private readonly opts: TxGossipOptions;
  private readonly m: TxGossipModules;
  private readonly batcher: GossipBatcher;
  private waiting: ((peers: number) => void)[] = [];
  private cancelReannounce: (() => void) | undefined;
  private stopped = false;

  constructor(opts: Partial<TxGossipOptions>, modules: TxGossipModules) {
    this.opts = { ...defaultTxGossipOptions, ...opts };
    this.m = modules;
    // A short window: RPC replies wait for their batch to leave.
    this.batcher = new GossipBatcher(
      { ...defaultGossipBatcherOptions, maxDelayMs: 15 },
      (batch, items) => {
        const resolvers = this.waiting.splice(0, items);
        void this.send(batch, 0).then((peers) => {
          for (const r of resolvers) r(peers);
        });
      },
      modules.clock,
    );
  }

  start(): void {
    this.scheduleReannounce();
  }

  stop(): void {
    this.stopped = true;
    this.cancelReannounce?.();
    this.batcher.flush();
  }

  add(raw: Uint8Array): Promise<number> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.batcher.add(raw);
    });
  }

  private async send(batch: Uint8Array, attempt: number): Promise<number> {
    let peers = 0;
    try {
      peers = await this.m.publish(batch);
    } catch (err) {
      this.m.logger.debug("tx gossip failed", { err, attempt });
    }
    if (peers > 0 || attempt >= this.opts.retries || this.stopped) return peers;
    await this.m.clock.sleep(this.opts.retryDelayMs);
    return this.send(batch, attempt + 1);
  }

  private scheduleReannounce(): void {
    if (this.stopped) return;
    this.cancelReannounce = this.m.clock.setTimeout(() => {
      this.reannounce();
      this.scheduleReannounce();
    }, this.opts.reannounceEveryMs);
  }

  private reannounce(): void {
    const cutoff = this.m.clock.now() - this.opts.reannounceAfterMs;
    const raws: Uint8Array[] = [];
    for (const tx of this.m.pooled()) {
      if (tx.addedAt > cutoff) continue;
      raws.push(tx.raw);
      if (raws.length >= this.opts.reannounceMax) break;
    }
    if (raws.length === 0) return;
    this.m.logger.debug("announcing pooled transactions again", { txs: raws.length });
    const max = defaultGossipBatcherOptions.maxBatchItems;
    for (let i = 0; i < raws.length; i += max)
      void this.send(encodeBatch(raws.slice(i, i + max)), this.opts.retries);
  }
}
