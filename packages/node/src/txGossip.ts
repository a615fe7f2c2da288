import type { Clock, Hex, Logger } from "@dseq/common";
import { defaultGossipBatcherOptions, encodeBatch, GossipBatcher } from "@dseq/p2p";
import type { PooledTx } from "@dseq/txpool";

export type TxGossipOptions = {
  /** Retries of a batch that reached no peer (no mesh yet, all peers down). */
  retries: number;
  retryDelayMs: number;
  /**
   * This node's own transactions (`markOwn`) still pooled this long after arrival are
   * announced again (lost gossip, restarted peers); each later announcement waits twice as
   * long as the one before, up to `reannounceMaxIntervalMs` (ADR 0164).
   */
  reannounceAfterMs: number;
  reannounceEveryMs: number;
  reannounceMaxIntervalMs: number;
  /** Most transactions announced again per round. */
  reannounceMax: number;
  /** Most own transactions tracked for announcing again (the oldest are forgotten first). */
  maxOwn: number;
  /**
   * A joined peer counts this long after it connected: by then it subscribed to the topic, so
   * a batch that reached "some peer" reached it too.
   */
  peerSettleMs: number;
};

export const defaultTxGossipOptions: TxGossipOptions = {
  retries: 20,
  retryDelayMs: 250,
  reannounceAfterMs: 4_000,
  reannounceEveryMs: 4_000,
  reannounceMaxIntervalMs: 64_000,
  reannounceMax: 2_048,
  maxOwn: 65_536,
  peerSettleMs: 2_000,
};

/**
 * When an own transaction is next due for announcing again, the wait after that, and the
 * delivery epoch of its last announcement.
 */
type Due = { at: number; intervalMs: number; epoch: number };

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
 * pool keeps a transaction until a committed block includes it, and the node's own (RPC)
 * transactions still pooled after a while are announced again, with a doubling wait: a message
 * lost before the mesh formed, or a peer that restarted with an empty pool, cannot strand a
 * sender behind a nonce gap. Only the node a transaction came in through announces it again,
 * and only after a peer joined or a batch reached no peer since it last went out: under a
 * backlog every node re-sending every pooled transaction every 4 s multiplied the gossip for
 * transactions every peer already held (ADR 0164).
 */
export class TxGossip {
  private readonly opts: TxGossipOptions;
  private readonly m: TxGossipModules;
  private readonly batcher: GossipBatcher;
  private waiting: ((peers: number) => void)[] = [];
  /** Own transactions by hash, oldest first (Map order). */
  private readonly own = new Map<Hex, Due>();
  /**
   * Moves when a peer joins or a batch reached no peer: a transaction announced at an older
   * epoch may be missing somewhere. While it stays, every connected peer got every batch
   * (gossipsub repairs in-mesh losses itself), so nothing is sent again.
   */
  private epoch = 0;
  /**
   * Moves when a peer joined. A restarted node (maybe the span's proposer) has an empty pool,
   * and the node a transaction came in through may be the one that died: after a join every
   * node sends, once, what it holds from peers too, so nothing waits for an origin that is gone.
   */
  private joinEpoch = 0;
  private foreignSentAt = 0;
  private readonly settling = new Set<() => void>();
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
    for (const cancel of this.settling) cancel();
    this.settling.clear();
    this.batcher.flush();
  }

  add(raw: Uint8Array): Promise<number> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.batcher.add(raw);
    });
  }

  /** A transaction that came in through this node: it is this node's to announce again. */
  markOwn(hash: Hex): void {
    if (this.own.has(hash)) return;
    const first = this.opts.reannounceAfterMs;
    this.own.set(hash, { at: this.m.clock.now() + first, intervalMs: first, epoch: this.epoch });
    if (this.own.size > this.opts.maxOwn) this.own.delete(this.own.keys().next().value as Hex);
  }

  /** A peer connected (new, or restarted with an empty pool): own transactions may be missing there. */
  peerJoined(): void {
    if (this.stopped) return;
    const cancel = this.m.clock.setTimeout(() => {
      this.settling.delete(cancel);
      this.epoch++;
      this.joinEpoch++;
    }, this.opts.peerSettleMs);
    this.settling.add(cancel);
  }

  /** The transaction left the pool (included, replaced, evicted): nothing to announce. */
  forget(hash: Hex): void {
    this.own.delete(hash);
  }

  /** Own transactions tracked now (tests, metrics). */
  get ownCount(): number {
    return this.own.size;
  }

  private async send(batch: Uint8Array, attempt: number): Promise<number> {
    let peers = 0;
    try {
      peers = await this.m.publish(batch);
    } catch (err) {
      this.m.logger.debug("tx gossip failed", { err, attempt });
    }
    if (peers === 0 && (attempt >= this.opts.retries || this.stopped)) this.epoch++;
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
    const foreign = this.joinEpoch !== this.foreignSentAt;
    if (this.own.size === 0 && !foreign) return;
    this.foreignSentAt = this.joinEpoch;
    const now = this.m.clock.now();
    const raws: Uint8Array[] = [];
    for (const tx of this.m.pooled()) {
      const due = this.own.get(tx.hash);
      if (!due) {
        // a peer's transaction: only once after a join, and only one that waited past the cutoff
        if (foreign && tx.addedAt + this.opts.reannounceAfterMs <= now) raws.push(tx.raw);
        if (raws.length >= this.opts.reannounceMax) break;
        continue;
      }
      if (due.at > now || due.epoch === this.epoch) continue;
      raws.push(tx.raw);
      due.epoch = this.epoch;
      due.intervalMs = Math.min(due.intervalMs * 2, this.opts.reannounceMaxIntervalMs);
      due.at = now + due.intervalMs;
      if (raws.length >= this.opts.reannounceMax) break;
    }
    if (raws.length === 0) return;
    this.m.logger.debug("announcing pooled transactions again", { txs: raws.length });
    const max = defaultGossipBatcherOptions.maxBatchItems;
    for (let i = 0; i < raws.length; i += max)
      void this.send(encodeBatch(raws.slice(i, i + max)), this.opts.retries);
  }
}
