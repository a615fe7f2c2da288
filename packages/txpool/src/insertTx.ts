import { AccountTxs, type PoolEntry } from "./accountTxs.ts";
import type { DecodedTx } from "./decode.ts";
import { TxPoolErrorCode as E, TxPoolError } from "./errors.ts";
import { isReplacementPriced } from "./fees.ts";
import { type MakeRoomContext, makeRoom } from "./makeRoom.ts";
import { type PoolState, reclassifyAccount, removeEntry, unwindEntry } from "./poolState.ts";
import type { AccountState, AddResult, Address } from "./types.ts";

export type InsertTxContext = MakeRoomContext & Pick<PoolState, "head" | "seq" | "journal">;

/**
 * The stateful part of admission: nonce, balance, EIP-7702, replacement and limit rules
 * against the account state, then the insert (and any eviction it causes). Runs under the
 * pool's lock; synchronous. Throws a `TxPoolError` when the transaction is refused; `fresh`
 * is the sender's state read for this batch (used when the pool does not know the sender).
 */
export function insertTx(
  ctx: InsertTxContext,
  d: DecodedTx,
  from: Address,
  fresh: AccountState | undefined,
  local: boolean,
  now: number,
  origin: string | undefined,
): Extract<AddResult, { ok: true }> {
  if (ctx.all.has(d.hash)) throw new TxPoolError(E.AlreadyKnown);
  // The head may have moved since the stateless checks ran.
  if (ctx.head && d.gasLimit > ctx.head.gasLimit) throw new TxPoolError(E.GasLimit);
  const known = ctx.accounts.get(from);
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
  checkDelegation(ctx, d, from, known, fresh);
  if (old && !isReplacementPriced(old, d, ctx.opts.priceBump)) throw new TxPoolError(E.ReplaceUnderpriced);

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
    seq: ctx.seq++,
    addedAt: now,
    pending: false,
  };
  if (old) removeEntry(ctx, account, old, "replaced");
  account.txs.set(entry.nonce, entry);
  if (!ctx.accounts.has(from)) ctx.accounts.set(from, account);
  for (const a of entry.authorities) ctx.authCount.set(a, (ctx.authCount.get(a) ?? 0) + 1);
  ctx.all.set(entry.hash, entry);
  ctx.queuedCount++;
  reclassifyAccount(ctx, account);

  if (!old) {
    // Add, then trim (geth's order): the sender's own cap first, then the pool's.
    if (account.size > ctx.opts.accountSlots) {
      const tail = account.tail() as PoolEntry;
      if (tail === entry) {
        unwindEntry(ctx, account, entry);
        throw new TxPoolError(E.AccountLimitExceeded, `pooled ${account.size} txs`);
      }
      removeEntry(ctx, account, tail, "evicted");
      reclassifyAccount(ctx, account);
    }
    if (ctx.all.size > ctx.opts.globalSlots || ctx.queuedCount > ctx.opts.globalQueue) {
      makeRoom(ctx, account, entry);
    }
  }

  ctx.metrics?.added.inc({ local: local ? "true" : "false" });
  ctx.events.emit("txpool.added", {
    hash: entry.hash,
    from,
    nonce: entry.nonce,
    raw: entry.raw,
    local,
    pending: entry.pending,
    ...(origin === undefined ? {} : { origin }),
  });
  if (local) ctx.journal?.append(entry.raw);
  return { ok: true, hash: entry.hash, from, nonce: entry.nonce, pending: entry.pending };
}

/**
 * geth's EIP-7702 pool rules. A sender that has code, or whose authorization a pooled
 * transaction carries, may have one executable transaction in flight (replacing it is
 * fine), and no gapped ones: others' transactions or its own code could drain it and
 * invalidate a stack of pooled transactions at no cost. An EIP-7702 transaction may not
 * carry the authorization of an account with more than one pooled transaction.
 */
function checkDelegation(
  ctx: Pick<PoolState, "authCount" | "accounts">,
  d: DecodedTx,
  from: Address,
  known: AccountTxs | undefined,
  fresh: AccountState | undefined,
): void {
  const hasCode = known ? known.hasCode : fresh?.hasCode === true;
  if (hasCode || ctx.authCount.has(from)) {
    const nonce = known?.nonce ?? (fresh as AccountState).nonce;
    const pendingEnd = known?.pendingEnd ?? nonce;
    if (pendingEnd === nonce) {
      if (d.nonce !== nonce) throw new TxPoolError(E.OutOfOrderFromDelegated);
    } else if (d.nonce < nonce || d.nonce >= pendingEnd) {
      throw new TxPoolError(E.InflightTxLimit);
    }
  }
  for (const a of d.authorities) {
    if ((ctx.accounts.get(a)?.size ?? 0) > 1) throw new TxPoolError(E.AuthorityReserved);
  }
}
