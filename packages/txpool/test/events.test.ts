import { describe, expect, it } from "vitest";
import { TxPool, type TxPoolEvents } from "../src/index.ts";
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
    const [r1, dup] = await pool.addRemotes([raw1, raw0]);
    expect(dup?.ok).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(added).toEqual([
      { hash: h0, from, nonce: 0n, raw: raw0, local: true, pending: true },
      { hash: r1?.ok && r1.hash, from, nonce: 1n, raw: raw1, local: false, pending: true },
    ]);
    // What a peer would receive re-enters through the same admission: a second node agrees.
    const peer = new TxPool({ chainId: CHAIN_ID }, { state });
    await peer.start(head());
    const results = await peer.addRemotes(added.map((e) => e.raw));
    expect(results.map((r) => r.ok && r.hash)).toEqual(added.map((e) => e.hash));
  });
});
