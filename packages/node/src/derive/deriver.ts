import { join } from "node:path";
import { bytesToHex, type Hex, type Logger, type Metrics } from "@dseq/common";
import {
  decodeJson,
  encodeJson,
  type KvOp,
  type KvStore,
  L1BridgeListener,
  type L1Event,
  type L1Reorg,
  openLevelKvStore,
} from "@dseq/l1-bridge-listener";
import type { Chain } from "@dseq/l2-exec";
import { createPublicClient, http } from "viem";
import { L1EntryQueue } from "../l1EntryQueue.ts";
import { createBeaconBlobSource } from "./beaconBlobSource.ts";
import { type BatchEvent, checkBatchLink, decodeBatchData, genesisTip } from "./checkBatch.ts";
import { deriveBatch } from "./deriveBatch.ts";
import { createDeriveMetrics, type DeriveMetrics } from "./deriveMetrics.ts";
import { batchKey, findRewindTarget, REWIND_KEY, type StoredTip, TIP_KEY } from "./deriveStore.ts";
import { DeriveError, DeriveErrorCode } from "./errors.ts";
import { type BlobSource, fetchBatchData, type L1TxSource } from "./fetchBatchData.ts";
import { crashIf, RewindCrashPoint } from "./rewindChainStore.ts";

export type DeriverOptions = {
  /** The derive store lives in `<dataDir>/derive` (the chain store is the caller's). */
  dataDir: string;
  l2ChainId: bigint;
  l1: {
    endpoints: string[];
    chainId: number;
    lockingPool: string;
    depositBridge: string;
    batchInbox: string;
    /** The validators' `l1.startBlock`: entry indexes count from it. */
    startBlock: number;
    confirmations: number;
    pollIntervalMs: number;
  };
  /** Beacon API with `/eth/v1/beacon/blob_sidecars/{block_id}`; without it blob batches wait. */
  beaconUrl?: string;
  /** Between tries of a batch whose data is not available yet, ms. */
  retryMs: number;
  /** Test hook: a named rewind crash point (`RewindCrashPoint`) where the process kills itself. */
  crashAt?: string | undefined;
};

export const defaultDeriverRetryMs = 1000;

export type DeriverModules = {
  chain: Chain;
  logger: Logger;
  metrics?: Metrics;
  /** Defaults: viem over the first L1 endpoint; the beacon source from `beaconUrl`. */
  l1Tx?: L1TxSource;
  blobs?: BlobSource;
  /**
   * Rewinds the chain store to a block and returns the chain to use from then on (ADR 0184,
   * `rewindChainStore`). Without it a reorg that removes a derived batch halts (ADR 0181).
   */
  rewindChain?: (to: { number: bigint; hash: Hex }) => Promise<Chain>;
};

/** What `dseq_syncStatus` answers for a verifier. */
export type DeriveStatus = {
  role: "verifier";
  derivedHead: bigint;
  derivedHash: Hex;
  lastBatchIndex: bigint;
  lastBatchL1Block: bigint;
  /** Confirmed batches seen on L1 and not derived yet. */
  pendingBatches: number;
  l1Confirmed: bigint | undefined;
  halted: { code: string; message: string } | undefined;
};

/**
 * The verifier (ADR 0180): follows BatchAppended and the entry events on L1 through its own
 * bridge listener (confirmed only), and derives each batch in order into the chain store.
 * A mismatch halts it with a DeriveError; data not available yet is retried.
 */
export class Deriver {
  private tip!: StoredTip;
  private queue: L1EntryQueue;
  private chain: Chain;
  /** Events up to this seq are in the queue; `buffered` holds live ones while it is rebuilt. */
  private lastSeq = -1;
  private buffered: (L1Event | { reorg: L1Reorg })[] | undefined;
  /** A `reorg` came: check in the loop whether the derived batches are still on L1. */
  private reorgSeen = false;
  /**
   * The same check once after start, when the listener has read past the tip's L1 block: a reorg
   * it stored before a crash is not emitted again.
   */
  private startCheckDue = true;
  private readonly pending = new Map<bigint, BatchEvent>();
  private listener: L1BridgeListener | undefined;
  private stores: { close(): Promise<void> }[] = [];
  private state: KvStore | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private halted: DeriveError | { code: string; message: string } | undefined;
  private l1Tx: L1TxSource;
  private blobs: BlobSource | undefined;
  private readonly log: Logger;
  private readonly metrics: DeriveMetrics;

  private readonly opts: DeriverOptions;
  private readonly m: DeriverModules;

  constructor(opts: DeriverOptions, m: DeriverModules) {
    this.opts = opts;
    this.m = m;
    this.chain = m.chain;
    this.log = m.logger.child({ module: "derive" });
    this.queue = new L1EntryQueue(this.log);
    this.metrics = createDeriveMetrics(m.metrics);
    this.l1Tx =
      m.l1Tx ??
      (createPublicClient({
        transport: http(opts.l1.endpoints.find((e) => e.startsWith("http"))),
      }) as L1TxSource);
    this.blobs = m.blobs ?? (opts.beaconUrl ? createBeaconBlobSource({ url: opts.beaconUrl }) : undefined);
  }

  async start(): Promise<void> {
    const dir = join(this.opts.dataDir, "derive");
    const state = await openLevelKvStore(join(dir, "state"));
    this.stores.push(state);
    this.state = state.store;
    const genesisHash = bytesToHex(this.chain.genesisHash) as Hex;
    const raw = await state.store.get(TIP_KEY);
    this.tip = raw ? decodeJson<StoredTip>(raw) : { ...genesisTip(genesisHash), genesisHash, batchSeq: -1 };
    const intent = await state.store.get(REWIND_KEY);
    if (intent) await this.finishRewind(decodeJson<StoredTip>(intent), "resuming an interrupted rewind");
    if (this.tip.genesisHash !== genesisHash) {
      throw new DeriveError(DeriveErrorCode.BadStore, "the derive store belongs to another chain", {
        batchIndex: this.tip.batchIndex,
        field: "genesisHash",
        expected: genesisHash,
        actual: this.tip.genesisHash,
      });
    }
    if (this.chain.head().header.number < this.tip.lastBlock) {
      throw new DeriveError(DeriveErrorCode.BadStore, "the chain store is behind the derive store", {
        batchIndex: this.tip.batchIndex,
        field: "head",
        expected: `>= ${this.tip.lastBlock}`,
        actual: String(this.chain.head().header.number),
      });
    }
    const l1Store = await openLevelKvStore(join(dir, "l1"));
    this.stores.push(l1Store);
    const o = this.opts.l1;
    const listener = new L1BridgeListener(
      {
        endpoints: o.endpoints,
        l1ChainId: o.chainId,
        contracts: {
          lockingPool: o.lockingPool as Hex,
          depositBridge: o.depositBridge as Hex,
          batchInbox: o.batchInbox as Hex,
        },
        startBlock: BigInt(o.startBlock),
        confirmations: o.confirmations,
        pollIntervalMs: o.pollIntervalMs,
      },
      { store: l1Store.store, logger: this.log, ...(this.m.metrics ? { metrics: this.m.metrics } : {}) },
    );
    this.listener = listener;
    for (const e of await listener.readConfirmed(0)) {
      this.onEvent(e);
      this.lastSeq = e.seq;
    }
    listener.events.on("event", (e) => {
      if (this.buffered) this.buffered.push(e);
      else if (e.seq > this.lastSeq) {
        this.onEvent(e);
        this.lastSeq = e.seq;
      }
    });
    listener.events.on("reorg", (r) => {
      if (this.buffered) this.buffered.push({ reorg: r });
      else this.onReorg(r);
    });
    listener.events.on("fatal", (f) =>
      this.halt({ code: f.code, message: `L1 listener halted: ${f.message}` }),
    );
    this.queue.committed(this.tip.nextEntry);
    this.metrics.head.set(Number(this.tip.lastBlock));
    this.running = true;
    listener.start();
    this.loop = this.run();
    this.log.info("verifier started", {
      derivedHead: this.tip.lastBlock.toString(),
      lastBatch: this.tip.batchIndex.toString(),
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    await this.listener?.stop();
    for (const s of this.stores.reverse()) await s.close();
    this.stores = [];
  }

  status(): DeriveStatus {
    const s = this.listener?.status();
    return {
      role: "verifier",
      derivedHead: this.tip.lastBlock,
      derivedHash: this.tip.lastBlockHash,
      lastBatchIndex: this.tip.batchIndex,
      lastBatchL1Block: this.tip.l1Block,
      pendingBatches: this.pending.size,
      l1Confirmed: s?.cursor?.number,
      halted: this.halted ? { code: this.halted.code, message: this.halted.message } : undefined,
    };
  }

  /** Resolves once the derived head reaches `block` (or derivation halted: then it throws). */
  async waitForBlock(block: bigint, timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.tip.lastBlock < block) {
      if (this.halted) throw this.halted;
      if (Date.now() > until)
        throw new Error(`derived head ${this.tip.lastBlock} < ${block} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private onEvent(e: L1Event): void {
    this.queue.onEvent(e);
    if (e.type === "batchAppended" && e.batchIndex > this.tip.batchIndex) {
      this.pending.set(e.batchIndex, e);
      this.wake?.();
    }
  }

  /** The chain store the verifier derives into (a new object after a rewind). */
  get currentChain(): Chain {
    return this.chain;
  }

  private onReorg(r: L1Reorg): void {
    this.queue.onReorg(r);
    for (const [i, e] of this.pending) if (e.seq >= r.forgotten.fromSeq) this.pending.delete(i);
    if (this.m.rewindChain) {
      // Whether a derived batch left L1 is decided in the loop, on the events then stored.
      this.reorgSeen = true;
      this.wake?.();
      return;
    }
    if (this.tip.batchSeq >= r.forgotten.fromSeq && this.tip.batchSeq < r.forgotten.toSeq) {
      this.halt(
        new DeriveError(
          DeriveErrorCode.ReorgBelowDerived,
          "an L1 reorg deeper than the confirmations removed it",
          {
            batchIndex: this.tip.batchIndex,
            field: "l1Block",
            actual: String(this.tip.l1Block),
          },
        ),
      );
    }
  }

  private halt(err: DeriveError | { code: string; message: string }): void {
    if (this.halted) return;
    this.halted = err;
    this.metrics.halted.set(1);
    this.log.error("derivation halted", err instanceof DeriveError ? err.toJSON() : err);
  }

  private async run(): Promise<void> {
    while (this.running) {
      let progressed = false;
      if (!this.halted) {
        try {
          progressed = (await this.rewindAfterReorg()) || (await this.step());
        } catch (err) {
          if (
            err instanceof DeriveError &&
            err.code === DeriveErrorCode.StoredBlock &&
            this.m.rewindChain !== undefined
          ) {
            // Blocks above the tip from a batch that left L1 (ADR 0184): drop them, derive again.
            this.log.warn("stored blocks above the tip differ from the batch: rewinding", err.toJSON());
            await this.rewindTo(this.tip, "stored blocks above the tip differ").catch((e: unknown) =>
              this.halt({ code: DeriveErrorCode.BadStore, message: (e as Error).message }),
            );
            progressed = true;
          } else if (err instanceof DeriveError && err.retryable) {
            this.metrics.retries.inc();
            this.log.warn("batch data not available yet", err.toJSON());
          } else if (err instanceof DeriveError) {
            this.halt(err);
          } else {
            this.halt({ code: "DERIVE_INTERNAL", message: (err as Error).message ?? String(err) });
          }
        }
      }
      if (progressed || !this.running) continue;
      await new Promise<void>((resolve) => {
        const t = setTimeout(
          resolve,
          this.pending.size > 0 ? this.opts.retryMs : this.opts.l1.pollIntervalMs,
        );
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** Derives the next batch if L1 has confirmed it; false when there is none yet. */
  private async step(): Promise<boolean> {
    const ev = this.pending.get(this.tip.batchIndex + 1n);
    if (!ev) return false;
    const chainId = this.opts.l2ChainId;
    const header = checkBatchLink(this.tip, ev, chainId);
    const data = await fetchBatchData(
      { l1: this.l1Tx, blobs: this.blobs, inbox: this.opts.l1.batchInbox as Hex },
      header,
      ev,
    );
    const blocks = decodeBatchData(header, data);
    const t0 = performance.now();
    const tip = await deriveBatch(
      { chain: this.chain, entries: (i, n) => this.queue.from(i, n) },
      this.tip,
      header,
      blocks,
      ev.l1.blockNumber,
      ev.batchHash,
    );
    const next: StoredTip = {
      ...tip,
      genesisHash: this.tip.genesisHash,
      batchSeq: ev.seq,
      l1BlockHash: ev.l1.blockHash,
    };
    const value = encodeJson(next);
    await this.state!.batch([
      { type: "put", key: TIP_KEY, value },
      { type: "put", key: batchKey(next.batchIndex), value },
    ]);
    this.tip = next;
    this.pending.delete(header.batchIndex);
    this.queue.committed(next.nextEntry);
    this.metrics.head.set(Number(next.lastBlock));
    this.metrics.batches.inc();
    this.log.info("batch derived", {
      batchIndex: header.batchIndex.toString(),
      blocks: `${header.firstBlock}..${header.lastBlock}`,
      l1Block: ev.l1.blockNumber.toString(),
      ms: Math.round(performance.now() - t0),
    });
    return true;
  }

  /**
   * ADR 0184: a derived batch is on L1 while the listener still holds its BatchAppended event
   * (same index, batch hash and L1 block hash); the listener forgets the events of L1 blocks
   * whose stored hash stopped being canonical. When the last derived batch is gone, the derived
   * chain goes back to the newest derived batch still there.
   */
  private async rewindAfterReorg(): Promise<boolean> {
    if (!this.m.rewindChain) return false;
    // Before the listener read past the tip's L1 block, a missing event may just be unread.
    const read = this.listener!.status().cursor?.number ?? -1n;
    if (!this.reorgSeen && !(this.startCheckDue && read >= this.tip.l1Block)) return false;
    this.reorgSeen = false;
    this.startCheckDue = false;
    if (this.tip.batchIndex === 0n) return false;
    const onL1 = new Map<bigint, BatchEvent>();
    for (const e of await this.listener!.readConfirmed(0))
      if (e.type === "batchAppended") onL1.set(e.batchIndex, e);
    const target = await findRewindTarget(this.state!, this.tip, (t) => {
      const e = onL1.get(t.batchIndex);
      return (
        e !== undefined &&
        e.batchHash === t.batchHash &&
        (t.l1BlockHash === undefined || e.l1.blockHash === t.l1BlockHash)
      );
    });
    if (target === undefined) return false;
    await this.rewindTo(target, `an L1 reorg removed batch ${this.tip.batchIndex}`);
    return true;
  }

  /** Writes the intent, rewinds the chain store, then the tip; rebuilds the L1 view. */
  private async rewindTo(target: StoredTip, why: string): Promise<void> {
    crashIf(this.opts.crashAt, RewindCrashPoint.BeforeIntent);
    await this.state!.put(REWIND_KEY, encodeJson(target));
    const from = this.tip;
    await this.finishRewind(target, why);
    await this.reloadL1View();
    this.metrics.head.set(Number(target.lastBlock));
    this.metrics.rewinds.inc();
    this.log.warn("derived chain rewound", {
      why,
      fromBatch: from.batchIndex.toString(),
      fromBlock: from.lastBlock.toString(),
      toBatch: target.batchIndex.toString(),
      toBlock: target.lastBlock.toString(),
    });
  }

  /** Idempotent (a restart with the intent stored calls it again): chain store, tip, history. */
  private async finishRewind(target: StoredTip, why: string): Promise<void> {
    const rewind = this.m.rewindChain;
    if (!rewind) {
      throw new DeriveError(DeriveErrorCode.BadStore, "a rewind is stored but this verifier cannot rewind", {
        batchIndex: target.batchIndex,
        field: "rewind",
      });
    }
    this.log.warn("rewinding the derived chain", { why, toBlock: target.lastBlock.toString() });
    this.chain = await rewind({ number: target.lastBlock, hash: target.lastBlockHash });
    const ops: KvOp[] = [{ type: "put", key: TIP_KEY, value: encodeJson(target) }];
    for (let i = target.batchIndex + 1n; i <= this.tip.batchIndex; i++)
      ops.push({ type: "del", key: batchKey(i) });
    ops.push({ type: "del", key: REWIND_KEY });
    await this.state!.batch(ops);
    this.tip = target;
  }

  /** The entry queue and pending batches again from the listener's stored events. */
  private async reloadL1View(): Promise<void> {
    const listener = this.listener!;
    this.buffered = [];
    const queue = new L1EntryQueue(this.log);
    this.queue = queue;
    this.pending.clear();
    let last = -1;
    for (const e of await listener.readConfirmed(0)) {
      this.onEvent(e);
      last = e.seq;
    }
    const live = this.buffered;
    this.buffered = undefined;
    for (const e of live) {
      if ("reorg" in e) this.onReorg(e.reorg);
      else if (e.seq > last) {
        this.onEvent(e);
        last = e.seq;
      }
    }
    this.lastSeq = last;
    queue.committed(this.tip.nextEntry);
  }
}
