import { describe, expect, it } from "vitest";

/** Listeners run on a microtask after `emit`. */
const flush = () => new Promise((r) => setImmediate(r));

import { addressOf, decodeFor, GWEI, testKey, testPoolState, tx1559 } from "../test/helpers.ts";
import type { AccountTxs, PoolEntry } from "./accountTxs.ts";
import { TxPoolErrorCode } from "./errors.ts";
import { insertTx } from "./insertTx.ts";
import { makeRoom } from "./makeRoom.ts";
import type { PoolState } from "./poolState.ts";

/** Pools one remote transfer of sender `i` with the given tip; returns its account and entry. */
function pooled(pool: PoolState, fund: (a: `0x${string}`) => void, i: number, tip: bigint) {
  const key = testKey(100 + i);
  fund(addressOf(key));
  const { d, from } = decodeFor(pool, tx1559(key, { nonce: 0n, tip }));
  insertTx(pool, d, from, pool.reader.getAccount(from) as never, false, i, undefined);
  return {
    account: pool.accounts.get(from) as AccountTxs,
    entry: pool.all.get(d.hash) as PoolEntry,
  };
}

describe("makeRoom", () => {
  it("evicts the remote tail with the lowest effective tip", async () => {
    const { pool, state } = testPoolState();
    const fund = (a: `0x${string}`) => state.fund(a);
    pooled(pool, fund, 1, GWEI / 10n);
    const cheapest = pooled(pool, fund, 2, GWEI / 20n);
    const newest = pooled(pool, fund, 3, GWEI / 5n);
    const removed: { hash: string; reason: string }[] = [];
    pool.events.on("txpool.removed", (e) => {
      removed.push(e);
    });
    makeRoom(pool, newest.account, newest.entry);
    await flush();
    expect(removed).toEqual([expect.objectContaining({ hash: cheapest.entry.hash, reason: "evicted" })]);
    expect(pool.all.has(cheapest.entry.hash)).toBe(false);
    expect(pool.all.size).toBe(2);
  });

  it("refuses the new transaction, silently, when it is itself the cheapest", async () => {
    const { pool, state } = testPoolState();
    const fund = (a: `0x${string}`) => state.fund(a);
    pooled(pool, fund, 1, GWEI / 10n);
    const newest = pooled(pool, fund, 2, GWEI / 100n);
    const removed: unknown[] = [];
    pool.events.on("txpool.removed", (e) => {
      removed.push(e);
    });
    expect(() => makeRoom(pool, newest.account, newest.entry)).toThrow(
      expect.objectContaining({ code: TxPoolErrorCode.Underpriced }),
    );
    expect(pool.all.has(newest.entry.hash)).toBe(false);
    expect([pool.pendingCount, pool.queuedCount]).toEqual([1, 0]);
    await flush();
    expect(removed).toEqual([]);
  });
});
