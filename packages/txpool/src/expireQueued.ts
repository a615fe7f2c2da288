import {
  type PoolState,
  type ReclassifyContext,
  type RemoveContext,
  reclassifyAccount,
  removeEntry,
} from "./poolState.ts";

export type ExpireQueuedContext = RemoveContext & ReclassifyContext & Pick<PoolState, "opts">;

/** Drops remote queued transactions older than `lifetimeMs` at `now`; returns how many. */
export function expireQueued(ctx: ExpireQueuedContext, now: number): number {
  let n = 0;
  for (const account of [...ctx.accounts.values()]) {
    let changed = false;
    for (const e of [...account.txs.values()]) {
      if (!e.pending && !e.local && now - e.addedAt >= ctx.opts.lifetimeMs) {
        removeEntry(ctx, account, e, "expired");
        changed = true;
        n++;
      }
    }
    if (changed) reclassifyAccount(ctx, account);
  }
  return n;
}
