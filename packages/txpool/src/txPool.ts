import {
  type Clock,
  createNoopLogger,
  EventBus,
  type Hex,
  type Logger,
  type Metrics,
  realClock,
} from "@dseq/common";
import { logCryptoBackend } from "@dseq/crypto";
import type { Common } from "@ethereumjs/common";
import type { JSONTx } from "@ethereumjs/tx";
import { AccountTxs, type PoolEntry } from "./accountTxs.ts";
import {
  type DecodeContext,
  type DecodedTx,
  decodeTransaction,
  recoverSenders,
  transactionHash,
} from "./decode.ts";
import { TxPoolErrorCode as E, TxPoolError } from "./errors.ts";
import { EvictionIndex } from "./evictionIndex.ts";
import { isReplacementPriced } from "./fees.ts";
import { TxJournal } from "./journal.ts";
import { checkOptions, defaultTxPoolOptions, effectiveMaxTxSize, type TxPoolOptions } from "./options.ts";
import { PendingTransactions } from "./ordering.ts";
import { createPoolCommon } from "./poolCommon.ts";
import { createPoolMetrics, type PoolMetrics } from "./poolMetrics.ts";
import type {
  AccountState,
  Address,
  PooledTx,
  PoolHead,
  RemovalReason,
  StateReader,
  TxPoolEvents,
} from "./types.ts";

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

export type AddResult =
  | { ok: true; hash: Hex; from: Address; nonce: bigint; pending: boolean }
  | { ok: false; hash?: Hex; error: TxPoolError };

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
 */
export class TxPool {
  readonly events: EventBus<TxPoolEvents>;
  readonly opts: TxPoolOptions;
  private readonly state: StateReader;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly metrics: PoolMetrics | undefined;
  private readonly common: Common;
  private readonly all = new Map<Hex, PoolEntry>();
  private readonly accounts = new Map<Address, AccountTxs>();
  /** How many pooled EIP-7702 transactions carry an authorization of each account. */
  private readonly authCount = new Map<Address, number>();
  private readonly eviction = new EvictionIndex((e) => this.all.get(e.hash) === e);
  private readonly journal: TxJournal | undefined;
  private head: PoolHead | undefined;
  private pendingCount = 0;
  private queuedCount = 0;
  private seq = 0;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(opts: Partial<TxPoolOptions> & { chainId: bigint }, modules: TxPoolModules) {
    this.opts = { ...defaultTxPoolOptions, ...opts };
    checkOptions(this.opts);
    this.state = modules.state;
    this.log = modules.logger ?? createNoopLogger();
    this.clock = modules.clock ?? realClock;
    this.metrics = modules.metrics ? createPoolMetrics(modules.metrics) : undefined;
    this.events = new EventBus<TxPoolEvents>({ name: "txpool", logger: this.log });
    this.common = createPoolCommon(this.opts.chainId);
    this.journal = this.opts.journalPath ? new TxJournal(this.opts.journalPath) : undefined;
  }

  /** Sets the head and reloads the journal's local transactions through admission. */
  async start(head: PoolHead): Promise<void> {
    logCryptoBackend(this.log);
    this.head = head;
    this.eviction.rebuild(this.accounts.values(), head.nextBaseFee);
    if (!this.journal) return;
    const { txs, torn } = this.journal.load();
    if (torn) this.log.warn("txpool journal ends in a torn record, ignored", { path: this.journal.path });
    const results = txs.length > 0 ? await this.addLocals(txs) : [];
    const kept = results.filter((r) => r.ok).length;
    this.log.info("txpool journal loaded", { records: txs.length, kept });
    await this.serial(async () => this.rotateJournal());
  }

  async stop(): Promise<void> {
    await this.serial(async () => {
      this.rotateJournal();
      this.journal?.close();
    });
  }

  /** Admits transactions from peers (or any untrusted source). Never throws per transaction. */
  addRemotes(raws: readonly Uint8Array[], opts: AdmitOptions = {}): Promise<AddResult[]> {
    return this.admit(raws, false, opts.origin);
  }

  /** Admits the operator's own transactions: journaled, never evicted for price, never expire. */
  addLocals(raws: readonly Uint8Array[], opts: AdmitOptions = {}): Promise<AddResult[]> {
    return this.admit(raws, true, opts.origin);
  }

  /** Admits one remote transaction; resolves its hash or rejects with a `TxPoolError`. */
  async addRemote(raw: Uint8Array, opts: AdmitOptions = {}): Promise<Hex> {
    return unwrap((await this.admit([raw], false, opts.origin))[0] as AddResult);
  }

  async addLocal(raw: Uint8Array, opts: AdmitOptions = {}): Promise<Hex> {
    return unwrap((await this.admit([raw], true, opts.origin))[0] as AddResult);
  }

  /**
   * A block was committed: drops what it included (and anything else its nonces made stale),
   * re-checks the rest against the new state (balance, gas limit), demotes what is no longer
   * executable, promotes what became so, expires old queued transactions and rotates the journal.
   */
  onNewHead(head: PoolHead): Promise<void> {
    return this.serial(async () => {
      const included = new Set(head.includedTxHashes ?? []);
      const accounts = [...this.accounts.values()];
      // Read everything first: if the state reader fails, the pool stays as it was.
      const states = await this.readAccounts(accounts.map((a) => a.address));
      this.head = head;
      const now = this.clock.now();
      for (const account of accounts) {
        const st = states.get(account.address) as AccountState;
        account.nonce = st.nonce;
        account.balance = st.balance;
        account.hasCode = st.hasCode === true;
        for (const e of [...account.txs.values()]) {
          if (e.nonce < st.nonce)
            this.remove(account, e, included.has(e.hash) ? "included" : "nonce-too-low");
          else if (e.gasLimit > head.gasLimit) this.remove(account, e, "exceeds-block-gas-limit");
          else if (e.cost > st.balance) this.remove(account, e, "insufficient-funds");
        }
        this.reclassify(account);
      }
      this.expireQueued(now);
      this.eviction.rebuild(this.accounts.values(), head.nextBaseFee);
      this.rotateJournal();
      this.updateGauges();
    });
  }

  /** Drops remote transactions queued for longer than the lifetime; returns how many. */
  expire(): Promise<number> {
    return this.serial(async () => {
      const n = this.expireQueued(this.clock.now());
      this.updateGauges();
      return n;
    });
  }

  /** Pending transactions in block order (see `PendingTransactions`). */
  pending(opts: PendingOptions = {}): PendingTransactions {
    const baseFee = opts.baseFee ?? this.head?.nextBaseFee ?? 0n;
    return new PendingTransactions(this.accounts.values(), baseFee, opts.minTip ?? 0n);
  }

  status(): TxPoolStatus {
    return { pending: this.pendingCount, queued: this.queuedCount };
  }

  get size(): number {
    return this.all.size;
  }

  has(hash: Hex): boolean {
    return this.all.has(hash.toLowerCase() as Hex);
  }

  get(hash: Hex): PooledTx | undefined {
    return this.all.get(hash.toLowerCase() as Hex);
  }

  /** Whether a pooled transaction is executable now; undefined if not pooled. */
  isPending(hash: Hex): boolean | undefined {
    return this.all.get(hash.toLowerCase() as Hex)?.pending;
  }

  content(): TxPoolContent {
    const out: TxPoolContent = { pending: {}, queued: {} };
    for (const account of this.accounts.values()) {
      const { pending, queued } = this.contentOf(account);
      if (Object.keys(pending).length > 0) out.pending[account.address] = pending;
      if (Object.keys(queued).length > 0) out.queued[account.address] = queued;
    }
    return out;
  }

  contentFrom(address: Address): TxPoolContentFrom {
    const account = this.accounts.get(address.toLowerCase() as Address);
    return account ? this.contentOf(account) : { pending: {}, queued: {} };
  }

  /**
   * The nonce `eth_getTransactionCount(address, "pending")` reports: the next nonce after the
   * sender's pending run, or the account nonce when the pool holds nothing executable of it.
   */
  async pendingNonce(address: Address): Promise<bigint> {
    const account = this.accounts.get(address.toLowerCase() as Address);
    if (account) return account.pendingEnd;
    return (await this.state.getAccount(address.toLowerCase() as Address)).nonce;
  }

  private contentOf(account: AccountTxs): TxPoolContentFrom {
    const out: TxPoolContentFrom = { pending: {}, queued: {} };
    for (const e of account.sorted()) (e.pending ? out.pending : out.queued)[e.nonce.toString()] = info(e);
    return out;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async admit(raws: readonly Uint8Array[], local: boolean, origin?: string): Promise<AddResult[]> {
    const results: AddResult[] = new Array(raws.length);
    const head = this.head;
    if (!head) {
      const error = new TxPoolError(E.NotStarted);
      return raws.map(() => ({ ok: false, error }));
    }
    // Stateless part outside the lock: decode and check everything cheap, then recover all
    // senders in one tight pass.
    const ctx: DecodeContext = {
      common: this.common,
      chainId: this.opts.chainId,
      maxTxSize: effectiveMaxTxSize(this.opts),
      minTip: this.opts.minTip,
      allowUnprotectedTxs: this.opts.allowUnprotectedTxs,
      blockGasLimit: head.gasLimit,
    };
    const decoded: DecodedTx[] = [];
    const index: number[] = [];
    // Known now, but maybe not once the lock is ours (a head update queued before us may
    // remove it): decided inside the lock.
    const deferred: { i: number; hash: Hex }[] = [];
    const decodeOne = (i: number, hash: Hex): void => {
      try {
        decoded.push(decodeTransaction(raws[i] as Uint8Array, ctx, hash));
        index.push(i);
      } catch (err) {
        results[i] = this.rejected(err, hash);
      }
    };
    for (let i = 0; i < raws.length; i++) {
      const hash = transactionHash(raws[i] as Uint8Array);
      if (this.all.has(hash)) deferred.push({ i, hash });
      else decodeOne(i, hash);
    }
    const senders = recoverSenders(decoded);

    return this.serial(async () => {
      const early = decoded.length;
      for (const { i, hash } of deferred) {
        if (this.all.has(hash)) results[i] = this.rejected(new TxPoolError(E.AlreadyKnown), hash);
        else decodeOne(i, hash);
      }
      if (decoded.length > early) senders.push(...recoverSenders(decoded.slice(early)));
      const unknown: Address[] = [];
      for (const from of senders) {
        if (typeof from === "string" && !this.accounts.has(from)) unknown.push(from);
      }
      const states = await this.readAccounts(unknown);
      // A known sender may leave the pool during the batch (its last tx evicted): keep its state.
      for (const from of senders) {
        const a = typeof from === "string" ? this.accounts.get(from) : undefined;
        if (a) states.set(a.address, { nonce: a.nonce, balance: a.balance, hasCode: a.hasCode });
      }
      const now = this.clock.now();
      for (let k = 0; k < decoded.length; k++) {
        const i = index[k] as number;
        const d = decoded[k] as DecodedTx;
        const from = senders[k] as Address | TxPoolError;
        if (from instanceof TxPoolError) {
          results[i] = this.rejected(from, d.hash);
          continue;
        }
        try {
          results[i] = this.insert(d, from, states.get(from), local, now, origin);
        } catch (err) {
          results[i] = this.rejected(err, d.hash);
        }
      }
      // Stale index entries pile up between heads; keep them bounded without heads too.
      if (this.eviction.size > 4 * this.all.size + 1024) {
        this.eviction.rebuild(this.accounts.values(), this.head?.nextBaseFee ?? 0n);
      }
      this.updateGauges();
      return results;
    });
  }

  private rejected(err: unknown, hash?: Hex): AddResult {
    if (!(err instanceof TxPoolError)) {
      err = new TxPoolError(E.InvalidEncoding, (err as Error)?.message, { cause: err });
    }
    const error = err as TxPoolError;
    this.metrics?.rejected.inc({ code: error.code });
    return hash ? { ok: false, hash, error } : { ok: false, error };
  }

  /** Reads several accounts, concurrently when the reader is asynchronous. */
  private async readAccounts(addresses: readonly Address[]): Promise<Map<Address, AccountState>> {
    const out = new Map<Address, AccountState>();
    const waiting: Promise<void>[] = [];
    for (const a of new Set(addresses)) {
      const r = this.state.getAccount(a);
      if (r instanceof Promise) {
        waiting.push(
          r.then((st) => {
            out.set(a, st);
          }),
        );
      } else out.set(a, r);
    }
    if (waiting.length > 0) await Promise.all(waiting);
    return out;
  }

  /** The stateful part of admission. Runs under the lock; synchronous. */
  private insert(
    d: DecodedTx,
    from: Address,
    fresh: AccountState | undefined,
    local: boolean,
    now: number,
    origin: string | undefined,
  ): AddResult {
    if (this.all.has(d.hash)) throw new TxPoolError(E.AlreadyKnown);
    // The head may have moved since the stateless checks ran.
    if (this.head && d.gasLimit > this.head.gasLimit) throw new TxPoolError(E.GasLimit);
    const known = this.accounts.get(from);
    const nonce = known?.nonce ?? (fresh as AccountState).nonce;
    const balance = known?.balance ?? (fresh as AccountState).balance;
    if (d.nonce < nonce) throw new TxPoolError(E.NonceTooLow, `next nonce ${nonce}, tx nonce ${d.nonce}`);
    if (balance < d.cost) {
      throw new TxPoolError(
        E.InsufficientFunds,
        `balance ${balance}, tx cost ${d.cost}, overshot ${d.cost - balance}`,
      );
    }
    const old = known?.txs.get(d.nonce);
    const spent = known?.pendingCost ?? 0n;
    if (old?.pending) {
      const bump = d.cost - old.cost;
      if (balance < spent + bump) {
        throw new TxPoolError(
          E.InsufficientFunds,
          `balance ${balance}, queued cost ${spent}, tx bumped ${bump}, overshot ${spent + bump - balance}`,
        );
      }
    } else if (balance < spent + d.cost) {
      throw new TxPoolError(
        E.InsufficientFunds,
        `balance ${balance}, queued cost ${spent}, tx cost ${d.cost}, overshot ${spent + d.cost - balance}`,
      );
    }
    this.checkDelegation(d, from, known, fresh);
    if (old && !isReplacementPriced(old, d, this.opts.priceBump)) throw new TxPoolError(E.ReplaceUnderpriced);

    const account = known ?? new AccountTxs(from, nonce, balance);
    if (!known) account.hasCode = fresh?.hasCode === true;
    const entry: PoolEntry = {
      hash: d.hash,
      from,
      nonce: d.nonce,
      type: d.type,
      gasLimit: d.gasLimit,
      feeCap: d.feeCap,
      tipCap: d.tipCap,
      value: d.value,
      cost: d.cost,
      raw: d.raw,
      tx: d.tx,
      authorities: d.authorities,
      local,
      seq: this.seq++,
      addedAt: now,
      pending: false,
    };
    if (old) this.remove(account, old, "replaced");
    account.txs.set(entry.nonce, entry);
    if (!this.accounts.has(from)) this.accounts.set(from, account);
    for (const a of entry.authorities) this.authCount.set(a, (this.authCount.get(a) ?? 0) + 1);
    this.all.set(entry.hash, entry);
    this.queuedCount++;
    this.reclassify(account);

    if (!old) {
      // Add, then trim (geth's order): the sender's own cap first, then the pool's.
      if (account.size > this.opts.accountSlots) {
        const tail = account.tail() as PoolEntry;
        if (tail === entry) {
          this.unwind(account, entry);
          throw new TxPoolError(E.AccountLimitExceeded, `pooled ${account.size} txs`);
        }
        this.remove(account, tail, "evicted");
        this.reclassify(account);
      }
      if (this.all.size > this.opts.globalSlots || this.queuedCount > this.opts.globalQueue) {
        this.makeRoom(account, entry);
      }
    }

    this.metrics?.added.inc({ local: local ? "true" : "false" });
    this.events.emit("txpool.added", {
      hash: entry.hash,
      from,
      nonce: entry.nonce,
      raw: entry.raw,
      local,
      pending: entry.pending,
      ...(origin === undefined ? {} : { origin }),
    });
    if (local) this.journal?.append(entry.raw);
    return { ok: true, hash: entry.hash, from, nonce: entry.nonce, pending: entry.pending };
  }

  /**
   * geth's EIP-7702 pool rules. A sender that has code, or whose authorization a pooled
   * transaction carries, may have one executable transaction in flight (replacing it is
   * fine), and no gapped ones: others' transactions or its own code could drain it and
   * invalidate a stack of pooled transactions at no cost. An EIP-7702 transaction may not
   * carry the authorization of an account with more than one pooled transaction.
   */
  private checkDelegation(
    d: DecodedTx,
    from: Address,
    known: AccountTxs | undefined,
    fresh: AccountState | undefined,
  ): void {
    const hasCode = known ? known.hasCode : fresh?.hasCode === true;
    if (hasCode || this.authCount.has(from)) {
      const nonce = known?.nonce ?? (fresh as AccountState).nonce;
      const pendingEnd = known?.pendingEnd ?? nonce;
      if (pendingEnd === nonce) {
        if (d.nonce !== nonce) throw new TxPoolError(E.OutOfOrderFromDelegated);
      } else if (d.nonce < nonce || d.nonce >= pendingEnd) {
        throw new TxPoolError(E.InflightTxLimit);
      }
    }
    for (const a of d.authorities) {
      if ((this.accounts.get(a)?.size ?? 0) > 1) throw new TxPoolError(E.AuthorityReserved);
    }
  }

  /**
   * Evicts the remote sender tail with the lowest effective tip at the next base fee (ties:
   * the latest arrival). Only tails go, so no sender is left with a gap. A future transaction
   * never pushes out an executable one. If the cheapest is the new transaction itself, it is
   * refused instead.
   */
  private makeRoom(account: AccountTxs, entry: PoolEntry): void {
    const queuedOnly = this.queuedCount > this.opts.globalQueue || !entry.pending;
    const { victim, others } = this.eviction.cheapest(queuedOnly, (e) => this.accounts.get(e.from)?.tail());
    if (!victim || victim === entry) {
      this.unwind(account, entry);
      throw new TxPoolError(others ? E.Underpriced : E.PoolFull);
    }
    const owner = this.accounts.get(victim.from) as AccountTxs;
    this.remove(owner, victim, "evicted");
    this.reclassify(owner);
  }

  /** Takes back a transaction that was inserted but then refused (no events were sent for it). */
  private unwind(account: AccountTxs, entry: PoolEntry): void {
    this.remove(account, entry, "evicted", false);
    this.reclassify(account);
  }

  /** Removes one entry; the caller reclassifies the account afterwards. */
  private remove(account: AccountTxs, e: PoolEntry, reason: RemovalReason, announce = true): void {
    account.txs.delete(e.nonce);
    this.all.delete(e.hash);
    for (const a of e.authorities) {
      const n = (this.authCount.get(a) ?? 0) - 1;
      if (n > 0) this.authCount.set(a, n);
      else this.authCount.delete(a);
    }
    if (e.pending) this.pendingCount--;
    else this.queuedCount--;
    if (account.txs.size === 0) this.accounts.delete(account.address);
    if (!announce) return;
    this.metrics?.removed.inc({ reason });
    this.events.emit("txpool.removed", { hash: e.hash, from: e.from, nonce: e.nonce, reason });
  }

  private reclassify(account: AccountTxs): void {
    const { promoted, demoted } = account.reclassify();
    this.eviction.track(account);
    this.pendingCount += promoted - demoted;
    this.queuedCount += demoted - promoted;
    if (demoted > 0) {
      this.metrics?.demoted.inc(undefined, demoted);
      this.log.debug("txpool demoted", { from: account.address, demoted });
    }
  }

  private expireQueued(now: number): number {
    let n = 0;
    for (const account of [...this.accounts.values()]) {
      let changed = false;
      for (const e of [...account.txs.values()]) {
        if (!e.pending && !e.local && now - e.addedAt >= this.opts.lifetimeMs) {
          this.remove(account, e, "expired");
          changed = true;
          n++;
        }
      }
      if (changed) this.reclassify(account);
    }
    return n;
  }

  private rotateJournal(): void {
    if (!this.journal) return;
    const locals: Uint8Array[] = [];
    for (const account of this.accounts.values()) {
      for (const e of account.sorted()) if (e.local) locals.push(e.raw);
    }
    this.journal.rotate(locals);
  }

  private updateGauges(): void {
    this.metrics?.pending.set(this.pendingCount);
    this.metrics?.queued.set(this.queuedCount);
  }
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
