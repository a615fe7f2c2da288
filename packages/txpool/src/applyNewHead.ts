import { type ExpireQueuedContext, expireQueued } from "./expireQueued.ts";
import {
  type PoolState,
  readAccounts,
  reclassifyAccount,
  removeEntry,
  rotateJournal,
  updateGauges,
} from "./poolState.ts";
import type { AccountState, PoolHead } from "./types.ts";

export type ApplyNewHeadContext = ExpireQueuedContext &
  Pick<PoolState, "reader" | "clock" | "head" | "journal">;

/**
 * A block was committed: drops what it included (and anything else its nonces made stale),
 * re-checks the rest against the new state (balance, gas limit), demotes what is no longer
 * executable, promotes what became so, expires old queued transactions and rotates the
 * journal. Runs under the pool's lock.
 */
export async function applyNewHead(ctx: ApplyNewHeadContext, head: PoolHead): Promise<void> {
  const included = new Set(head.includedTxHashes ?? []);
  const accounts = [...ctx.accounts.values()];
  // Read everything first: if the state reader fails, the pool stays as it was.
  const states = await readAccounts(
    ctx,
    accounts.map((account) => account.address),
  );
  ctx.head = head;
  const now = ctx.clock.now();
  for (const account of accounts) {
    const st = states.get(account.address) as AccountState;
    account.nonce = st.nonce;
    account.balance = st.balance;
    account.hasCode = st.hasCode === true;
    for (const e of [...account.txs.values()]) {
      if (e.nonce < st.nonce)
        removeEntry(ctx, account, e, included.has(e.hash) ? "included" : "nonce-too-low");
      else if (e.gasLimit > head.gasLimit) removeEntry(ctx, account, e, "exceeds-block-gas-limit");
      else if (e.cost > st.balance) removeEntry(ctx, account, e, "insufficient-funds");
    }
    reclassifyAccount(ctx, account);
  }
  expireQueued(ctx, now);
  ctx.eviction.rebuild(ctx.accounts.values(), head.nextBaseFee);
  rotateJournal(ctx);
  updateGauges(ctx);
}
