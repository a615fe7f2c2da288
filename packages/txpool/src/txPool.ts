import type { Clock, EventBus, Hex, Logger, Metrics } from "@dseq/common";
import { logCryptoBackend } from "@dseq/crypto";
import type { JSONTx } from "@ethereumjs/tx";
import type { AccountTxs, PoolEntry } from "./accountTxs.ts";
import { admitTxs } from "./admitTxs.ts";
import { applyNewHead } from "./applyNewHead.ts";
import { expireQueued } from "./expireQueued.ts";
import { checkOptions, defaultTxPoolOptions, type TxPoolOptions } from "./options.ts";
import { PendingTransactions } from "./ordering.ts";
import { createPoolState, type PoolState, rotateJournal, serial, updateGauges } from "./poolState.ts";
import type { AddResult, Address, PooledTx, PoolHead, StateReader, TxPoolEvents } from "./types.ts";

export type { AddResult } from "./types.ts";

export type TxPoolModules = {
  state: StateReader;
  logger?: Logger;
  metrics?: Metrics;
  clock?: Clock;
};

export type AdmitOptions = {
  /**
   * Where the transactions came from (e.g. "rpc", or a peer id), echoed in `txpool.added` so
   * a gossip forwarder can skip what a peer just sent.
   */
  origin?: string;
};

/** A pooled transaction as plain data, for `txpool_content` and friends. */
export type PooledTxInfo = {
  hash: Hex;
  from: Address;
  nonce: bigint;
  type: number;
  local: boolean;
  pending: boolean;
  raw: Uint8Array;
  /** The transaction's fields, hex-encoded (@ethereumjs `toJSON()`). */
  fields: JSONTx;
};

/** geth's `txpool_content` shape: by sender, then by nonce (decimal string). */
export type TxPoolContent = {
  pending: Record<Address, Record<string, PooledTxInfo>>;
  queued: Record<Address, Record<string, PooledTxInfo>>;
};

export type TxPoolContentFrom = {
  pending: Record<string, PooledTxInfo>;
  queued: Record<string, PooledTxInfo>;
};

export type TxPoolStatus = { pending: number; queued: number };

export type PendingOptions = {
  /** Base fee of the block being built; defaults to the head's `nextBaseFee`. */
  baseFee?: bigint;
  /** Smallest effective tip the builder takes; defaults to 0. */
  minTip?: bigint;
};

/**
 * The sequencer's private transaction pool. Admission (`addRemotes`, `addLocals`) decodes,
 * validates statelessly, recovers senders in one pass on the native secp256k1 path, then
 * applies nonce, balance, replacement and limit rules against the account state of the head.
 * Mutations (admission, `onNewHead`) run one at a time; reads are synchronous snapshots.
 *
 * The class holds the pool's state (`PoolState`); admission (admitTxs.ts, insertTx.ts),
 * eviction (makeRoom.ts), head re-validation (applyNewHead.ts) and expiry (expireQueued.ts)
 * are operations in their own files.
 */
export class TxPool {
  readonly events: EventBus<TxPoolEvents>;
  readonly opts: TxPoolOptions;
  private readonly state: PoolState;

  constructor(opts: Partial<TxPoolOptions> & { chainId: bigint }, modules: TxPoolModules) {
    this.opts = { ...defaultTxPoolOptions, ...opts };
    checkOptions(this.opts);
    this.state = createPoolState(this.opts, modules);
    this.events = this.state.events;
  }

  /** Sets the head and reloads the journal's local transactions through admission. */
  async start(head: PoolHead): Promise<void> {
    const state = this.state;
    logCryptoBackend(state.log);
    state.head = head;
    state.eviction.rebuild(state.accounts.values(), head.nextBaseFee);
    const journal = state.journal;
    if (!journal) return;
    const { txs, torn } = journal.load();
    if (torn) state.log.warn("txpool journal ends in a torn record, ignored", { path: journal.path });
    const results = txs.length > 0 ? await this.addLocals(txs) : [];
    const kept = results.filter((r) => r.ok).length;
    state.log.info("txpool journal loaded", { records: txs.length, kept });
    await serial(state, async () => rotateJournal(state));
  }

  async stop(): Promise<void> {
    await serial(this.state, async () => {
      rotateJournal(this.state);
      this.state.journal?.close();
    });
  }

  /** Admits transactions from peers (or any untrusted source). Never throws per transaction. */
  addRemotes(raws: readonly Uint8Array[], opts: AdmitOptions = {}): Promise<AddResult[]> {
    return admitTxs(this.state, raws, false, opts.origin);
  }

  /** Admits the operator's own transactions: journaled, never evicted for price, never expire. */
  addLocals(raws: readonly Uint8Array[], opts: AdmitOptions = {}): Promise<AddResult[]> {
    return admitTxs(this.state, raws, true, opts.origin);
  }

  /** Admits one remote transaction; resolves its hash or rejects with a `TxPoolError`. */
  async addRemote(raw: Uint8Array, opts: AdmitOptions = {}): Promise<Hex> {
    return unwrap((await admitTxs(this.state, [raw], false, opts.origin))[0] as AddResult);
  }

  async addLocal(raw: Uint8Array, opts: AdmitOptions = {}): Promise<Hex> {
    return unwrap((await admitTxs(this.state, [raw], true, opts.origin))[0] as AddResult);
  }

  /**
   * A block was committed: drops what it included (and anything else its nonces made stale),
   * re-checks the rest against the new state (balance, gas limit), demotes what is no longer
   * executable, promotes what became so, expires old queued transactions and rotates the journal.
   */
  onNewHead(head: PoolHead): Promise<void> {
    return serial(this.state, () => applyNewHead(this.state, head));
  }

  /** Drops remote transactions queued for longer than the lifetime; returns how many. */
  expire(): Promise<number> {
    return serial(this.state, async () => {
      const n = expireQueued(this.state, this.state.clock.now());
      updateGauges(this.state);
      return n;
    });
  }

  /** Pending transactions in block order (see `PendingTransactions`). */
  pending(opts: PendingOptions = {}): PendingTransactions {
    const baseFee = opts.baseFee ?? this.state.head?.nextBaseFee ?? 0n;
    return new PendingTransactions(this.state.accounts.values(), baseFee, opts.minTip ?? 0n);
  }

  status(): TxPoolStatus {
    return { pending: this.state.pendingCount, queued: this.state.queuedCount };
  }

  get size(): number {
    return this.state.all.size;
  }

  has(hash: Hex): boolean {
    return this.state.all.has(hash.toLowerCase() as Hex);
  }

  get(hash: Hex): PooledTx | undefined {
    return this.state.all.get(hash.toLowerCase() as Hex);
  }

  /** Whether a pooled transaction is executable now; undefined if not pooled. */
  isPending(hash: Hex): boolean | undefined {
    return this.state.all.get(hash.toLowerCase() as Hex)?.pending;
  }

  content(): TxPoolContent {
    const out: TxPoolContent = { pending: {}, queued: {} };
    for (const account of this.state.accounts.values()) {
      const { pending, queued } = contentOf(account);
      if (Object.keys(pending).length > 0) out.pending[account.address] = pending;
      if (Object.keys(queued).length > 0) out.queued[account.address] = queued;
    }
    return out;
  }

  contentFrom(address: Address): TxPoolContentFrom {
    const account = this.state.accounts.get(address.toLowerCase() as Address);
    return account ? contentOf(account) : { pending: {}, queued: {} };
  }

  /**
   * The nonce `eth_getTransactionCount(address, "pending")` reports: the next nonce after the
   * sender's pending run, or the account nonce when the pool holds nothing executable of it.
   */
  async pendingNonce(address: Address): Promise<bigint> {
    const account = this.state.accounts.get(address.toLowerCase() as Address);
    if (account) return account.pendingEnd;
    return (await this.state.reader.getAccount(address.toLowerCase() as Address)).nonce;
  }
}

function contentOf(account: AccountTxs): TxPoolContentFrom {
  const out: TxPoolContentFrom = { pending: {}, queued: {} };
  for (const e of account.sorted()) (e.pending ? out.pending : out.queued)[e.nonce.toString()] = info(e);
  return out;
}

function unwrap(r: AddResult): Hex {
  if (!r.ok) throw r.error;
  return r.hash;
}

function info(e: PoolEntry): PooledTxInfo {
  return {
    hash: e.hash,
    from: e.from,
    nonce: e.nonce,
    type: e.type,
    local: e.local,
    pending: e.pending,
    raw: e.raw,
    fields: e.tx.toJSON(),
  };
}

export function createTxPool(
  opts: Partial<TxPoolOptions> & { chainId: bigint },
  modules: TxPoolModules,
): TxPool {
  return new TxPool(opts, modules);
}
