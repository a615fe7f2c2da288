import { describe, expect, it } from "vitest";

/** Listeners run on a microtask after `emit`. */
const flush = () => new Promise((r) => setImmediate(r));

import { addressOf, decodeFor, GWEI, testKey, testPoolState, tx1559 } from "../test/helpers.ts";
import { TxPoolErrorCode } from "./errors.ts";
import { insertTx } from "./insertTx.ts";

const key = testKey(1);
const sender = addressOf(key);

describe("insertTx", () => {
  it("pools a transaction against the sender's state and counts it pending", async () => {
    const { pool, state } = testPoolState();
    state.fund(sender);
    const added: unknown[] = [];
    pool.events.on("txpool.added", (e) => {
      added.push(e);
    });
    const { d, from } = decodeFor(pool, tx1559(key, { nonce: 0n }));
    const r = insertTx(pool, d, from, state.getAccount(from) as never, false, 0, "peer-1");
    expect(r).toEqual({ ok: true, hash: d.hash, from, nonce: 0n, pending: true });
    expect(pool.all.get(d.hash)?.pending).toBe(true);
    expect([pool.pendingCount, pool.queuedCount]).toEqual([1, 0]);
    await flush();
    expect(added).toMatchObject([{ hash: d.hash, origin: "peer-1", pending: true }]);
    // the same hash again
    expect(() => insertTx(pool, d, from, undefined, false, 0, undefined)).toThrow(
      expect.objectContaining({ code: TxPoolErrorCode.AlreadyKnown }),
    );
  });

  it("refuses a nonce below the account's and an underpriced replacement, leaving the pool as it was", () => {
    const { pool, state } = testPoolState();
    state.set(sender, { nonce: 1n, balance: 10n ** 18n });
    const low = decodeFor(pool, tx1559(key, { nonce: 0n }));
    expect(() =>
      insertTx(pool, low.d, low.from, state.getAccount(sender) as never, false, 0, undefined),
    ).toThrow(
      expect.objectContaining({
        code: TxPoolErrorCode.NonceTooLow,
        message: "nonce too low: next nonce 1, tx nonce 0",
      }),
    );
    const first = decodeFor(pool, tx1559(key, { nonce: 1n, tip: GWEI }));
    insertTx(pool, first.d, first.from, state.getAccount(sender) as never, false, 0, undefined);
    const cheap = decodeFor(pool, tx1559(key, { nonce: 1n, tip: GWEI + 1n, fee: 2n * GWEI + 1n }));
    expect(() => insertTx(pool, cheap.d, cheap.from, undefined, false, 0, undefined)).toThrow(
      expect.objectContaining({ code: TxPoolErrorCode.ReplaceUnderpriced }),
    );
    expect([...pool.all.keys()]).toEqual([first.d.hash]);
    expect([pool.pendingCount, pool.queuedCount]).toEqual([1, 0]);
  });
});
