import { join } from "node:path";
import type { Logger, Metrics } from "@dseq/common";
import { L1BridgeListener, openLevelKvStore } from "@dseq/l1-bridge-listener";
import type { NodeConfig } from "./config.ts";
import { L1EntryQueue } from "./l1EntryQueue.ts";

export type L1FeedOptions = NonNullable<NodeConfig["l1"]> & { dataDir: string };

/** What `/health` and `dseq_syncStatus` say about L1. */
export type L1Status = {
  reachable: boolean;
  head: number | undefined;
  confirmed: number | undefined;
  /** Head minus the last confirmed block read (includes the confirmations). */
  lagBlocks: number | undefined;
  consecutiveFailures: number;
  halted: boolean;
  /** Index after the last confirmed entry this node knows. */
  entriesConfirmed: string;
  /** L1 reorgs deeper than the confirmations that dropped entries committed L2 blocks hold (ADR 0123). */
  deepReorgs: number;
};

/**
 * The L1 side of the node: the bridge listener on its own LevelDB (`<dataDir>/l1`) feeding the
 * entry queue. Started before consensus, so a restarted node's queue holds every stored
 * confirmed event before the first proposal is checked.
 */
export class L1Feed {
  readonly queue: L1EntryQueue;
  private listener: L1BridgeListener | undefined;
  private closeStore: (() => Promise<void>) | undefined;
  /** The last confirmed GroupKeyRotated's new key (stored or live) and who wants it (ADR 0154). */
  private rotatedTo: `0x${string}` | undefined;
  private readonly rotationHandlers: ((newKey: `0x${string}`) => void)[] = [];

  private readonly opts: L1FeedOptions;
  private readonly m: { logger: Logger; metrics: Metrics };

  constructor(opts: L1FeedOptions, m: { logger: Logger; metrics: Metrics }) {
    this.opts = opts;
    this.m = m;
    this.queue = new L1EntryQueue(m.logger);
  }

  async start(): Promise<void> {
    const { store, close } = await openLevelKvStore(join(this.opts.dataDir, "l1"));
    this.closeStore = close;
    const o = this.opts;
    const listener = new L1BridgeListener(
      {
        endpoints: o.endpoints,
        l1ChainId: o.chainId,
        contracts: {
          lockingPool: o.lockingPool as `0x${string}`,
          depositBridge: o.depositBridge as `0x${string}`,
          batchInbox: o.batchInbox as `0x${string}`,
        },
        startBlock: BigInt(o.startBlock),
        confirmations: o.confirmations,
        pollIntervalMs: o.pollIntervalMs,
      },
      { store, logger: this.m.logger, metrics: this.m.metrics },
    );
    this.listener = listener;
    // Stored confirmed events first (a restart), then live ones; seqs only grow.
    let lastSeq = -1;
    for (const e of await listener.readConfirmed(0)) {
      this.queue.onEvent(e);
      this.seeRotation(e);
      lastSeq = e.seq;
    }
    listener.events.on("event", (e) => {
      if (e.seq > lastSeq) this.queue.onEvent(e);
      if (e.seq > lastSeq) this.seeRotation(e);
    });
    listener.events.on("reorg", (r) => this.queue.onReorg(r));
    listener.start();
  }

  status(): L1Status {
    const s = this.listener?.status();
    const head = s?.head === undefined ? undefined : Number(s.head);
    const confirmed = s?.cursor === undefined ? undefined : Number(s.cursor.number);
    return {
      reachable: s !== undefined && s.head !== undefined && s.consecutiveFailures === 0 && !s.halted,
      head,
      confirmed,
      lagBlocks: head !== undefined && confirmed !== undefined ? head - confirmed : undefined,
      consecutiveFailures: s?.consecutiveFailures ?? 0,
      halted: s?.halted ?? false,
      entriesConfirmed: this.queue.confirmedNext.toString(),
      deepReorgs: this.queue.deepReorgs,
    };
  }

  /** Called with the new key of the last confirmed GroupKeyRotated now (if any) and on each later one. */
  onGroupKeyRotated(handler: (newKey: `0x${string}`) => void): void {
    this.rotationHandlers.push(handler);
    if (this.rotatedTo) handler(this.rotatedTo);
  }

  private seeRotation(e: { type: string; newKey?: `0x${string}` }): void {
    if (e.type !== "groupKeyRotated" || !e.newKey) return;
    this.rotatedTo = e.newKey;
    for (const h of this.rotationHandlers) h(e.newKey);
  }

  async stop(): Promise<void> {
    await this.listener?.stop();
    await this.closeStore?.();
  }
}
