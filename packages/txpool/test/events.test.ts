import { FakeClock } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { TxBatcher, TxPool, type TxPoolEvents } from "../src/index.ts";
import { addressOf, CHAIN_ID, ETHER, head, TestState, testKey, tx1559 } from "./helpers.ts";

describe("events (forwarding and gossip hooks)", () => {
  it("announces admitted transactions with their raw bytes, from remotes and locals alike", async () => {
    const key = testKey(7);
    const from = addressOf(key);
    const state = new TestState();
    state.fund(from, ETHER);
    const pool = new TxPool({ chainId: CHAIN_ID }, { state });
    await pool.start(head());
    const added: TxPoolEvents["txpool.added"][] = [];
    pool.events.on("txpool.added", (e) => {
      added.push(e);
    });
    const raw0 = tx1559(key, { nonce: 0n });
    const raw1 = tx1559(key, { nonce: 1n });
    const h0 = await pool.addLocal(raw0);
    const [r1, dup] = await pool.addRemotes([raw1, raw0], { origin: "peer" });
    expect(dup?.ok).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(added).toEqual([
      { hash: h0, from, nonce: 0n, raw: raw0, local: true, pending: true },
      { hash: r1?.ok && r1.hash, from, nonce: 1n, raw: raw1, local: false, pending: true, origin: "peer" },
    ]);
    // Forwarding: what was not just received from a peer goes out in batches; the peer
    // admits the batch through the same admission and agrees on the hashes.
    const clock = new FakeClock(0);
    const batches: Uint8Array[][] = [];
    const batcher = new TxBatcher({ maxDelayMs: 20 }, { clock }, (raws) => batches.push(raws));
    for (const e of added) if (e.origin !== "peer") batcher.push(e.raw);
    clock.advance(20);
    expect(batches).toEqual([[raw0]]);
    const peer = new TxPool({ chainId: CHAIN_ID }, { state });
    await peer.start(head());
    const results = await peer.addRemotes(batches[0] as Uint8Array[], { origin: "peer" });
    expect(results.map((r) => r.ok && r.hash)).toEqual([h0]);
  });
});
