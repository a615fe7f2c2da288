import type { Hex } from "@dseq/common";
import {
  type DecodeContext,
  type DecodedTx,
  decodeTransaction,
  recoverSenders,
  transactionHash,
} from "./decode.ts";
import { TxPoolErrorCode as E, TxPoolError } from "./errors.ts";
import { type InsertTxContext, insertTx } from "./insertTx.ts";
import { effectiveMaxTxSize } from "./options.ts";
import { type PoolState, readAccounts, serial, updateGauges } from "./poolState.ts";
import type { AddResult, Address } from "./types.ts";

export type AdmitTxsContext = InsertTxContext & Pick<PoolState, "common" | "reader" | "clock" | "tail">;

/**
 * Admits a batch: the stateless part (decode, cheap checks, then every sender recovered in
 * one tight pass) outside the lock, the stateful part (`insertTx` per transaction against the
 * account state) under it. Never throws per transaction: each gets its result, in order.
 */
export async function admitTxs(
  ctx: AdmitTxsContext,
  raws: readonly Uint8Array[],
  local: boolean,
  origin?: string,
): Promise<AddResult[]> {
  const results: AddResult[] = new Array(raws.length);
  const head = ctx.head;
  if (!head) {
    const error = new TxPoolError(E.NotStarted);
    return raws.map(() => ({ ok: false, error }));
  }
  const decodeCtx: DecodeContext = {
    common: ctx.common,
    chainId: ctx.opts.chainId,
    maxTxSize: effectiveMaxTxSize(ctx.opts),
    minTip: ctx.opts.minTip,
    allowUnprotectedTxs: ctx.opts.allowUnprotectedTxs,
    blockGasLimit: head.gasLimit,
  };
  const decoded: DecodedTx[] = [];
  const index: number[] = [];
  // Known now, but maybe not once the lock is ours (a head update queued before us may
  // remove it): decided inside the lock.
  const deferred: { i: number; hash: Hex }[] = [];
  const decodeOne = (i: number, hash: Hex): void => {
    try {
      decoded.push(decodeTransaction(raws[i] as Uint8Array, decodeCtx, hash));
      index.push(i);
    } catch (err) {
      results[i] = rejected(ctx, err, hash);
    }
  };
  for (let i = 0; i < raws.length; i++) {
    const hash = transactionHash(raws[i] as Uint8Array);
    if (ctx.all.has(hash)) deferred.push({ i, hash });
    else decodeOne(i, hash);
  }
  const senders = recoverSenders(decoded);

  return serial(ctx, async () => {
    const decodedOutside = decoded.length;
    for (const { i, hash } of deferred) {
      if (ctx.all.has(hash)) results[i] = rejected(ctx, new TxPoolError(E.AlreadyKnown), hash);
      else decodeOne(i, hash);
    }
    if (decoded.length > decodedOutside) senders.push(...recoverSenders(decoded.slice(decodedOutside)));
    const unknown: Address[] = [];
    for (const from of senders) {
      if (typeof from === "string" && !ctx.accounts.has(from)) unknown.push(from);
    }
    const states = await readAccounts(ctx, unknown);
    // A known sender may leave the pool during the batch (its last tx evicted): keep its state.
    for (const from of senders) {
      const account = typeof from === "string" ? ctx.accounts.get(from) : undefined;
      if (account) {
        states.set(account.address, {
          nonce: account.nonce,
          balance: account.balance,
          hasCode: account.hasCode,
        });
      }
    }
    const now = ctx.clock.now();
    for (let k = 0; k < decoded.length; k++) {
      const i = index[k] as number;
      const d = decoded[k] as DecodedTx;
      const from = senders[k] as Address | TxPoolError;
      if (from instanceof TxPoolError) {
        results[i] = rejected(ctx, from, d.hash);
        continue;
      }
      try {
        results[i] = insertTx(ctx, d, from, states.get(from), local, now, origin);
      } catch (err) {
        results[i] = rejected(ctx, err, d.hash);
      }
    }
    // Stale index entries pile up between heads; keep them bounded without heads too.
    if (ctx.eviction.size > 4 * ctx.all.size + 1024) {
      ctx.eviction.rebuild(ctx.accounts.values(), ctx.head?.nextBaseFee ?? 0n);
    }
    updateGauges(ctx);
    return results;
  });
}

/** A refusal as a result (anything but a `TxPoolError` was a decoding failure), counted. */
function rejected(ctx: Pick<PoolState, "metrics">, err: unknown, hash?: Hex): AddResult {
  if (!(err instanceof TxPoolError)) {
    err = new TxPoolError(E.InvalidEncoding, (err as Error)?.message, { cause: err });
  }
  const error = err as TxPoolError;
  ctx.metrics?.rejected.inc({ code: error.code });
  return hash ? { ok: false, hash, error } : { ok: false, error };
}
