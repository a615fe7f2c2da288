import { describe, expect, it } from "vitest";

/** Listeners run on a microtask after `emit`. */
const flush = () => new Promise((r) => setImmediate(r));

import { addressOf, decodeFor, head, testKey, testPoolState, tx1559 } from "../test/helpers.ts";
import { applyNewHead } from "./applyNewHead.ts";
import { insertTx } from "./insertTx.ts";
import type { PoolState } from "./poolState.ts";

const key = testKey(7);
const sender = addressOf(key);

function poolOf(pool: PoolState, nonces: bigint[], gas = 21_000n): `0x${string}`[] {
  return nonces.map((nonce) => {
    const { d, from } = decodeFor(pool, tx1559(key, { nonce, gas }));
    insertTx(pool, d, from, pool.reader.getAccount(from) as never, false, 0, undefined);
    return d.hash;
  });
}

describe("applyNewHead", () => {
  it("drops what the block included or made stale and keeps the rest pending", async () => {
    const { pool, state } = testPoolState();
    state.fund(sender);
    const [h0, h1, h2] = poolOf(pool, [0n, 1n, 2n]);
    const removed: { hash: string; reason: string }[] = [];
    pool.events.on("txpool.removed", (e) => {
      removed.push(e);
    });
    state.set(sender, { nonce: 2n });
    await applyNewHead(pool, head({ number: 2n, includedTxHashes: [h0 as `0x${string}`] }));
    await flush();
    expect(removed.map((r) => [r.hash, r.reason])).toEqual([
      [h0, "included"],
      [h1, "nonce-too-low"],
    ]);
    expect(pool.all.get(h2 as `0x${string}`)?.pending).toBe(true);
    expect(pool.head?.number).toBe(2n);
    expect([pool.pendingCount, pool.queuedCount]).toEqual([1, 0]);
  });

  it("drops what the sender can no longer pay for or the gas limit no longer allows", async () => {
    const { pool, state } = testPoolState();
    state.fund(sender);
    const [small, big] = poolOf(pool, [0n, 1n], 50_000n);
    state.set(sender, { balance: 0n });
    await applyNewHead(pool, head({ number: 2n }));
    expect(pool.all.has(small as `0x${string}`)).toBe(false);
    expect(pool.all.has(big as `0x${string}`)).toBe(false);
    const { pool: p2, state: s2 } = testPoolState();
    s2.fund(sender);
    const [tx] = poolOf(p2, [0n], 50_000n);
    const removed: { reason: string }[] = [];
    p2.events.on("txpool.removed", (e) => {
      removed.push(e);
    });
    await applyNewHead(p2, head({ number: 2n, gasLimit: 40_000n }));
    expect(p2.all.has(tx as `0x${string}`)).toBe(false);
    await flush();
    expect(removed.map((r) => r.reason)).toEqual(["exceeds-block-gas-limit"]);
  });

  it("leaves the pool as it was when the state reader fails", async () => {
    const failing = { getAccount: () => Promise.reject(new Error("state gone")) };
    const { pool, state } = testPoolState();
    state.fund(sender);
    const [h0] = poolOf(pool, [0n]);
    const broken = { ...pool, reader: failing };
    await expect(applyNewHead(broken, head({ number: 5n }))).rejects.toThrow("state gone");
    expect(pool.head?.number).toBe(1n);
    expect(pool.all.get(h0 as `0x${string}`)?.pending).toBe(true);
  });
});
