import type { AccountTxs, PoolEntry } from "./accountTxs.ts";
import { effectiveTip } from "./fees.ts";
import { Heap } from "./heap.ts";

type Node = { entry: PoolEntry; tip: bigint };

/** Cheapest first; on equal tips the latest arrival goes first. */
function cheaper(a: Node, b: Node): boolean {
  if (a.tip !== b.tip) return a.tip < b.tip;
  return a.entry.seq > b.entry.seq;
}

/**
 * Eviction candidates without scanning every sender: min-heaps of remote sender tails by
 * effective tip at the next base fee, one over all tails and one over queued tails. Entries
 * are pushed whenever an account changes and checked lazily when they reach the top (still
 * pooled, still the tail, still queued for the queued heap), so a full pool costs
 * O(log n) amortised per admission. Rebuilt on every head, when the base fee changes.
 */
export class EvictionIndex {
  private all = new Heap<Node>(cheaper);
  private queued = new Heap<Node>(cheaper);
  private baseFee = 0n;
  private readonly isLive: (e: PoolEntry) => boolean;

  /** `isLive(e)`: `e` is still in the pool. */
  constructor(isLive: (e: PoolEntry) => boolean) {
    this.isLive = isLive;
  }

  get size(): number {
    return this.all.size + this.queued.size;
  }

  rebuild(accounts: Iterable<AccountTxs>, baseFee: bigint): void {
    this.baseFee = baseFee;
    const all: Node[] = [];
    const queued: Node[] = [];
    for (const a of accounts) {
      const tail = a.tail();
      if (!tail || tail.local) continue;
      const node = { entry: tail, tip: effectiveTip(tail, baseFee) };
      all.push(node);
      if (!tail.pending) queued.push(node);
    }
    this.all = new Heap(cheaper, all);
    this.queued = new Heap(cheaper, queued);
  }

  /** Records the account's current tail (call after every change to the account). */
  track(account: AccountTxs): void {
    const tail = account.tail();
    if (!tail || tail.local) return;
    const node = { entry: tail, tip: effectiveTip(tail, this.baseFee) };
    this.all.push(node);
    if (!tail.pending) this.queued.push(node);
  }

  /**
   * The cheapest current tail (queued tails only if `queuedOnly`), and whether any other
   * candidate exists besides it.
   */
  cheapest(
    queuedOnly: boolean,
    tailOf: (e: PoolEntry) => PoolEntry | undefined,
  ): { victim?: PoolEntry; others: boolean } {
    const heap = queuedOnly ? this.queued : this.all;
    const valid = (e: PoolEntry) => this.isLive(e) && tailOf(e) === e && !(queuedOnly && e.pending);
    const top = (skip?: PoolEntry): PoolEntry | undefined => {
      for (let n = heap.peek(); n; n = heap.peek()) {
        if (n.entry !== skip && valid(n.entry)) return n.entry;
        heap.pop();
      }
      return undefined;
    };
    const victim = top();
    if (!victim) return { others: false };
    // Is there anyone else? Look past the victim (its copies go: it is about to leave).
    const popped = heap.pop() as Node;
    const others = top(victim) !== undefined;
    heap.push(popped);
    return { victim, others };
  }
}
