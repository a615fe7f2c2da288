import { describe, expect, it } from "vitest";
import { addressOf, decodeFor, testKey, testPoolState, tx1559 } from "../test/helpers.ts";
import { expireQueued } from "./expireQueued.ts";
import { insertTx } from "./insertTx.ts";

describe("expireQueued", () => {
  it("drops remote queued transactions past the lifetime; pending and local ones stay", () => {
    const { pool, state } = testPoolState({ lifetimeMs: 1000 });
    const add = (i: number, nonce: bigint, local: boolean, now: number) => {
      const key = testKey(200 + i);
      state.fund(addressOf(key));
      const { d, from } = decodeFor(pool, tx1559(key, { nonce }));
      insertTx(pool, d, from, pool.reader.getAccount(from) as never, local, now, undefined);
      return d.hash;
    };
    const pending = add(1, 0n, false, 0);
    const queuedRemote = add(2, 5n, false, 0);
    const queuedLocal = add(3, 5n, true, 0);
    const young = add(4, 5n, false, 500);
    expect(expireQueued(pool, 999)).toBe(0);
    expect(expireQueued(pool, 1000)).toBe(1);
    expect(pool.all.has(queuedRemote)).toBe(false);
    for (const h of [pending, queuedLocal, young]) expect(pool.all.has(h)).toBe(true);
    expect([pool.pendingCount, pool.queuedCount]).toEqual([1, 2]);
  });
});
