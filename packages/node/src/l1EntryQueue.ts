import type { Logger } from "@dseq/common";
import type { L1Event, L1Reorg } from "@dseq/l1-bridge-listener";
import { type ConfirmedEntry, entryOfEvent, type L2Entry } from "./l1Entries.ts";

/**
 * This node's view of the L1 entries: every confirmed entry in L1 order, its index its place
 * (ADR 0120). Fed by the listener's `event` and `reorg`; read by the proposer (what to include)
 * and by validation (what an index must hold). Entries far below the committed index are dropped.
 */
export class L1EntryQueue {
  private readonly items: ConfirmedEntry[] = [];
  /** Index of items[0]. */
  private base = 0n;
  /** Index after the last committed entry (what the chain holds). */
  private committedNext = 0n;
  private waiters: { index: bigint; resolve: () => void }[] = [];
  /** Reorgs deeper than the confirmations that dropped entries committed L2 blocks hold (ADR 0123). */
  deepReorgs = 0;

  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  /** Index after the last confirmed entry. */
  get confirmedNext(): bigint {
    return this.base + BigInt(this.items.length);
  }

  onEvent(e: L1Event): void {
    const entry = entryOfEvent(e, this.confirmedNext);
    if (!entry) return;
    this.items.push({ entry, seq: e.seq, l1Block: e.l1.blockNumber });
    this.wake();
  }

  /** Events of blocks that left L1 are forgotten; their indexes go to whatever lands next. */
  onReorg(r: L1Reorg): void {
    let cut = this.items.length;
    while (cut > 0 && this.items[cut - 1]!.seq >= r.forgotten.fromSeq) cut--;
    if (cut === this.items.length) return;
    const firstDropped = this.base + BigInt(cut);
    if (firstDropped < this.committedNext) {
      this.deepReorgs++;
      this.log.error("an L1 reorg deeper than the confirmations dropped entries a committed L2 block holds", {
        firstDropped: firstDropped.toString(),
        committedNext: this.committedNext.toString(),
      });
    }
    this.items.length = cut;
    this.log.warn("L1 reorg: confirmed entries forgotten", {
      from: firstDropped.toString(),
      ancestor: r.ancestor.number.toString(),
    });
  }

  at(index: bigint): L2Entry | undefined {
    if (index < this.base) return undefined;
    return this.items[Number(index - this.base)]?.entry;
  }

  /** Up to `max` confirmed entries from `index`, in order. */
  from(index: bigint, max: number): L2Entry[] {
    if (index < this.base) return [];
    const start = Number(index - this.base);
    return this.items.slice(start, start + max).map((c) => c.entry);
  }

  /** The chain holds entries below `next`. */
  committed(next: bigint): void {
    this.committedNext = next;
    const keep = 1024n;
    if (next - this.base > 2n * keep) {
      const drop = Number(next - keep - this.base);
      this.items.splice(0, drop);
      this.base += BigInt(drop);
    }
  }

  /** Resolves once `index` is confirmed, or after `ms`. */
  waitFor(index: bigint, ms: number): Promise<void> {
    if (index < this.confirmedNext) return Promise.resolve();
    return new Promise((resolve) => {
      const w = { index, resolve: () => {} };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve();
      }, ms);
      w.resolve = () => {
        clearTimeout(t);
        resolve();
      };
      this.waiters.push(w);
    });
  }

  private wake(): void {
    const next = this.confirmedNext;
    const ready = this.waiters.filter((w) => w.index < next);
    this.waiters = this.waiters.filter((w) => w.index >= next);
    for (const w of ready) w.resolve();
  }
}
