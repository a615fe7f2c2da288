import type { AccountTxs, PoolEntry } from "./accountTxs.ts";
import { TxPoolErrorCode as E, TxPoolError } from "./errors.ts";
import {
  type PoolState,
  type ReclassifyContext,
  type RemoveContext,
  reclassifyAccount,
  removeEntry,
  unwindEntry,
} from "./poolState.ts";

export type MakeRoomContext = RemoveContext & ReclassifyContext & Pick<PoolState, "opts">;

/**
 * Evicts the remote sender tail with the lowest effective tip at the next base fee (ties:
 * the latest arrival). Only tails go, so no sender is left with a gap. A future transaction
 * never pushes out an executable one. If the cheapest is the new transaction itself, it is
 * refused instead (`account` holds `entry`, just inserted).
 */
export function makeRoom(ctx: MakeRoomContext, account: AccountTxs, entry: PoolEntry): void {
  const queuedOnly = ctx.queuedCount > ctx.opts.globalQueue || !entry.pending;
  const { victim, others } = ctx.eviction.cheapest(queuedOnly, (e) => ctx.accounts.get(e.from)?.tail());
  if (!victim || victim === entry) {
    unwindEntry(ctx, account, entry);
    throw new TxPoolError(others ? E.Underpriced : E.PoolFull);
  }
  const owner = ctx.accounts.get(victim.from) as AccountTxs;
  removeEntry(ctx, owner, victim, "evicted");
  reclassifyAccount(ctx, owner);
}
