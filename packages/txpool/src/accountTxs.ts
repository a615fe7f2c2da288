import type { Address, PooledTx } from "./types.ts";

/** The pool's own record of a pooled transaction: the public view plus its queue position. */
export type PoolEntry = PooledTx & {
  /** Executable now: nonce contiguous from the account nonce and paid for. */
  pending: boolean;
};

/**
 * One sender's transactions by nonce, with the account state the pool last read. Pending is
 * the run of nonces `[nonce, pendingEnd)`: contiguous from the account nonce and whose
 * cumulative cost the balance covers. Everything else is queued.
 */
export class AccountTxs {
  readonly address: Address;
  nonce: bigint;
  balance: bigint;
  /** The account has code (delegated or a contract): one transaction in flight at most. */
  hasCode = false;
  readonly txs = new Map<bigint, PoolEntry>();
  pendingEnd: bigint;
  /** Sum of the costs of the pending transactions. */
  pendingCost = 0n;

  constructor(address: Address, nonce: bigint, balance: bigint) {
    this.address = address;
    this.nonce = nonce;
    this.balance = balance;
    this.pendingEnd = nonce;
  }

  get size(): number {
    return this.txs.size;
  }

  /** The highest-nonce transaction: the only one that can go without opening a gap. */
  tail(): PoolEntry | undefined {
    let tail: PoolEntry | undefined;
    for (const e of this.txs.values()) if (!tail || e.nonce > tail.nonce) tail = e;
    return tail;
  }

  /** Transactions in nonce order. */
  sorted(): PoolEntry[] {
    return [...this.txs.values()].sort((a, b) => (a.nonce < b.nonce ? -1 : a.nonce > b.nonce ? 1 : 0));
  }

  /**
   * Recomputes which transactions are pending. Returns how many went queued to pending
   * (promoted) and pending to queued (demoted).
   */
  reclassify(): { promoted: number; demoted: number } {
    let promoted = 0;
    let demoted = 0;
    let n = this.nonce;
    let cost = 0n;
    for (;;) {
      const e = this.txs.get(n);
      if (!e || cost + e.cost > this.balance) break;
      cost += e.cost;
      if (!e.pending) {
        e.pending = true;
        promoted++;
      }
      n++;
    }
    if (this.txs.size > Number(n - this.nonce)) {
      for (const e of this.txs.values()) {
        if (e.pending && (e.nonce < this.nonce || e.nonce >= n)) {
          e.pending = false;
          demoted++;
        }
      }
    }
    this.pendingEnd = n;
    this.pendingCost = cost;
    return { promoted, demoted };
  }
}
