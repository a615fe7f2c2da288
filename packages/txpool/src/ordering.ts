import type { AccountTxs, PoolEntry } from "./accountTxs.ts";
import { effectiveTip } from "./fees.ts";
import { Heap } from "./heap.ts";
import type { PooledTx } from "./types.ts";

type Cursor = {
  account: AccountTxs;
  tx: PoolEntry;
  tip: bigint;
  /** Pending range of the account when the iterator was made: `[tx.nonce, end)`. */
  end: bigint;
};

function before(a: Cursor, b: Cursor): boolean {
  if (a.tip !== b.tip) return a.tip > b.tip;
  return a.tx.seq < b.tx.seq;
}

/**
 * Pending transactions in block order, geth's `transactionsByPriceAndNonce`: a heap holds
 * each sender's lowest-nonce pending transaction keyed by its effective tip at `baseFee`
 * (ties: first seen first), so senders interleave by price while each keeps its nonce order.
 * Lazy: making it costs O(senders), pulling k transactions O(k log senders).
 *
 * The builder calls `peek()`; if the transaction went into the block, `shift()` moves to the
 * sender's next one; if it did not fit or failed, `pop()` drops the sender (its later nonces
 * cannot run without it). Transactions whose fee cap is below `baseFee`, or whose effective
 * tip is below `minTip`, end their sender's run.
 *
 * Each sender's first transaction is taken when the iterator is made; later nonces are read
 * from the live pool as the builder advances (bounded by the pending run at creation). Use
 * one iterator per block build.
 */
export class PendingTransactions implements Iterable<PooledTx> {
  private readonly heap: Heap<Cursor>;
  private readonly baseFee: bigint;
  private readonly minTip: bigint;

  constructor(accounts: Iterable<AccountTxs>, baseFee: bigint, minTip = 0n) {
    this.baseFee = baseFee;
    this.minTip = minTip;
    const cursors: Cursor[] = [];
    for (const account of accounts) {
      if (account.pendingEnd === account.nonce) continue;
      const tx = account.txs.get(account.nonce);
      if (!tx) continue;
      const tip = this.eligibleTip(tx);
      if (tip !== undefined) cursors.push({ account, tx, tip, end: account.pendingEnd });
    }
    this.heap = new Heap(before, cursors);
  }

  /** The best transaction now, or undefined when none is left. */
  peek(): PooledTx | undefined {
    return this.heap.peek()?.tx;
  }

  /** Replaces the best transaction with the next nonce of the same sender. */
  shift(): void {
    const c = this.heap.peek();
    if (!c) return;
    const nonce = c.tx.nonce + 1n;
    const next = nonce < c.end ? c.account.txs.get(nonce) : undefined;
    const tip = next ? this.eligibleTip(next) : undefined;
    if (next === undefined || tip === undefined) {
      this.heap.pop();
      return;
    }
    c.tx = next;
    c.tip = tip;
    this.heap.fixTop();
  }

  /** Drops the best transaction's sender altogether. */
  pop(): void {
    this.heap.pop();
  }

  /** `peek()` then `shift()`: for consumers that take every transaction. */
  next(): PooledTx | undefined {
    const tx = this.peek();
    if (tx) this.shift();
    return tx;
  }

  /** How many senders still have transactions to offer. */
  get senders(): number {
    return this.heap.size;
  }

  *[Symbol.iterator](): Iterator<PooledTx> {
    for (let tx = this.next(); tx; tx = this.next()) yield tx;
  }

  private eligibleTip(tx: PoolEntry): bigint | undefined {
    if (tx.feeCap < this.baseFee) return undefined;
    const tip = effectiveTip(tx, this.baseFee);
    return tip < this.minTip ? undefined : tip;
  }
}
