import { createMetrics } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { TxPool } from "../src/index.ts";
import { addressOf, CHAIN_ID, ETHER, head, TestState, testKey, tx1559 } from "./helpers.ts";

describe("concurrent callers", () => {
  it("runs admissions and head updates one at a time, in call order, over an async state", async () => {
    const state = new TestState({ async: true });
    const keys = Array.from({ length: 8 }, (_, i) => testKey(100 + i));
    for (const k of keys) state.fund(addressOf(k), ETHER);
    const metrics = createMetrics();
    const pool = new TxPool({ chainId: CHAIN_ID }, { state, metrics });
    await pool.start(head());
    const first = keys.map((k) => tx1559(k, { nonce: 0n }));
    const second = keys.map((k) => tx1559(k, { nonce: 1n }));
    // Fired without awaiting: the later nonces arrive first and wait queued for the gap filler.
    const [rb, ra] = await Promise.all([pool.addRemotes(second), pool.addRemotes(first)]);
    expect(rb.every((r) => r.ok && !r.pending)).toBe(true);
    expect(ra.every((r) => r.ok && r.pending)).toBe(true);
    expect(pool.status()).toEqual({ pending: 16, queued: 0 });
    // The block included the first batch; a resend queued right behind the head update must
    // see the head (nonce too low), not the pool as it was (already known).
    for (const k of keys) state.set(addressOf(k), { nonce: 1n });
    const hashes = ra.map((r) => (r.ok ? r.hash : "0x"));
    const h = pool.onNewHead(head({ number: 2n, includedTxHashes: hashes as `0x${string}`[] }));
    const again = pool.addRemotes(first);
    const [, rAgain] = await Promise.all([h, again]);
    expect(rAgain.map((r) => (r.ok ? "ok" : r.error.code))).toEqual(keys.map(() => "TXPOOL_NONCE_TOO_LOW"));
    expect(pool.status()).toEqual({ pending: 8, queued: 0 });
    expect(await metrics.values("dseq_txpool_pending_transactions")).toEqual([{ labels: {}, value: 8 }]);
    expect(await metrics.values("dseq_txpool_removed_total")).toEqual([
      { labels: { reason: "included" }, value: 8 },
    ]);
    expect(await metrics.values("dseq_txpool_rejected_total")).toEqual([
      { labels: { code: "TXPOOL_NONCE_TOO_LOW" }, value: 8 },
    ]);
  });
});
