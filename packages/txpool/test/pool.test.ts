import { FakeClock, type Hex } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { TxPool, TxPoolErrorCode, type TxPoolEvents } from "../src/index.ts";
import { addressOf, CHAIN_ID, ETHER, GWEI, head, TestState, testKey, tx1559, txLegacy } from "./helpers.ts";

const keyA = testKey(1);
const keyB = testKey(2);
const keyC = testKey(3);
const A = addressOf(keyA);
const B = addressOf(keyB);
const C = addressOf(keyC);

type Removed = TxPoolEvents["txpool.removed"];
type Added = TxPoolEvents["txpool.added"];

async function flush(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}

function setup(opts: Record<string, unknown> = {}, clock = new FakeClock(1_000_000)) {
  const state = new TestState();
  for (const a of [A, B, C]) state.fund(a, ETHER);
  const pool = new TxPool({ chainId: CHAIN_ID, ...opts }, { state, clock });
  const added: Added[] = [];
  const removed: Removed[] = [];
  pool.events.on("txpool.added", (e) => {
    added.push(e);
  });
  pool.events.on("txpool.removed", (e) => {
    removed.push(e);
  });
  return { state, pool, added, removed, clock };
}

function order(pool: TxPool, baseFee?: bigint): string[] {
  const it = pool.pending(baseFee === undefined ? {} : { baseFee });
  return [...it].map((t) => `${t.from === A ? "A" : t.from === B ? "B" : "C"}${t.nonce}`);
}

describe("replacement", () => {
  it("needs at least a 10% bump of both fee cap and tip", async () => {
    const { pool, removed } = setup();
    await pool.start(head());
    const first = await pool.addRemote(tx1559(keyA, { nonce: 0n, tip: 100n * GWEI, fee: 200n * GWEI }));
    const tries: [bigint, bigint][] = [
      [109n * GWEI, 220n * GWEI], // tip +9%
      [110n * GWEI, 219n * GWEI], // fee +9.5%
      [100n * GWEI, 300n * GWEI], // tip unchanged
    ];
    for (const [tip, fee] of tries) {
      const [r] = await pool.addRemotes([tx1559(keyA, { nonce: 0n, tip, fee })]);
      expect(r?.ok).toBe(false);
      if (r && !r.ok) {
        expect(r.error.code).toBe(TxPoolErrorCode.ReplaceUnderpriced);
        expect(r.error.message).toBe("replacement transaction underpriced");
      }
    }
    expect(pool.has(first)).toBe(true);
    const second = await pool.addRemote(tx1559(keyA, { nonce: 0n, tip: 110n * GWEI, fee: 220n * GWEI }));
    expect(pool.has(first)).toBe(false);
    expect(pool.get(second)?.tipCap).toBe(110n * GWEI);
    expect(pool.status()).toEqual({ pending: 1, queued: 0 });
    await flush();
    expect(removed).toEqual([{ hash: first, from: A, nonce: 0n, reason: "replaced" }]);
  });

  it("applies to queued transactions and to legacy gas prices alike", async () => {
    const { pool } = setup();
    await pool.start(head());
    await pool.addRemote(txLegacy(keyA, { nonce: 3n, fee: 10n * GWEI }));
    const [low] = await pool.addRemotes([txLegacy(keyA, { nonce: 3n, fee: 10n * GWEI + 1n })]);
    expect(low?.ok).toBe(false);
    const [ok] = await pool.addRemotes([txLegacy(keyA, { nonce: 3n, fee: 11n * GWEI })]);
    expect(ok?.ok).toBe(true);
    expect(pool.status()).toEqual({ pending: 0, queued: 1 });
  });
});

describe("pending and queued", () => {
  it("queues a future nonce and promotes the run when the gap fills", async () => {
    const { pool, added } = setup();
    await pool.start(head());
    await pool.addRemotes([
      tx1559(keyA, { nonce: 2n }),
      tx1559(keyA, { nonce: 3n }),
      tx1559(keyA, { nonce: 5n }),
    ]);
    expect(pool.status()).toEqual({ pending: 0, queued: 3 });
    expect(await pool.pendingNonce(A)).toBe(0n);
    await pool.addRemote(tx1559(keyA, { nonce: 0n }));
    expect(pool.status()).toEqual({ pending: 1, queued: 3 });
    await pool.addRemote(tx1559(keyA, { nonce: 1n }));
    expect(pool.status()).toEqual({ pending: 4, queued: 1 });
    expect(await pool.pendingNonce(A)).toBe(4n);
    expect(await pool.pendingNonce(B)).toBe(0n);
    const content = pool.contentFrom(A);
    expect(Object.keys(content.pending)).toEqual(["0", "1", "2", "3"]);
    expect(Object.keys(content.queued)).toEqual(["5"]);
    await flush();
    expect(added.map((a) => [a.nonce, a.pending])).toEqual([
      [2n, false],
      [3n, false],
      [5n, false],
      [0n, true],
      [1n, true],
    ]);
  });

  it("reports geth's txpool_content shape", async () => {
    const { pool } = setup();
    await pool.start(head());
    const h = await pool.addRemote(tx1559(keyA, { nonce: 0n, value: 7n }));
    await pool.addRemote(tx1559(keyB, { nonce: 1n }));
    const content = pool.content();
    expect(Object.keys(content.pending)).toEqual([A]);
    expect(Object.keys(content.queued)).toEqual([B]);
    const info = content.pending[A]?.["0"];
    expect(info?.hash).toBe(h);
    expect(info?.fields.value).toBe("0x7");
    expect(info?.fields.maxPriorityFeePerGas).toBe("0x3b9aca00");
    expect(pool.status()).toEqual({ pending: 1, queued: 1 });
  });
});

describe("limits and eviction", () => {
  it("caps each sender, dropping its highest nonce", async () => {
    const { pool, removed } = setup({ accountSlots: 3 });
    await pool.start(head());
    await pool.addRemotes([0n, 1n, 2n].map((n) => tx1559(keyA, { nonce: n })));
    const [over] = await pool.addRemotes([tx1559(keyA, { nonce: 3n })]);
    expect(over?.ok === false && over.error.message).toBe("account limit exceeded: pooled 3 txs");
    expect(pool.size).toBe(3);
    // A gap filler below the highest nonce goes in; the highest nonce goes out.
    const q = await pool.addRemotes([
      tx1559(keyB, { nonce: 1n }),
      tx1559(keyB, { nonce: 2n }),
      tx1559(keyB, { nonce: 5n }),
    ]);
    const [gap] = await pool.addRemotes([tx1559(keyB, { nonce: 0n })]);
    expect(gap?.ok).toBe(true);
    expect(pool.contentFrom(B).pending).toHaveProperty("2");
    expect(pool.contentFrom(B).queued).toEqual({});
    await flush();
    expect(removed.map((r) => [r.hash, r.reason])).toEqual([[q[2]?.ok && q[2].hash, "evicted"]]);
  });

  it("evicts the cheapest tail when full, and refuses what pays no more", async () => {
    const { pool, removed } = setup({ globalSlots: 3 });
    await pool.start(head({ nextBaseFee: 0n }));
    await pool.addRemotes([
      tx1559(keyA, { nonce: 0n, tip: 5n * GWEI, fee: 10n * GWEI }),
      tx1559(keyA, { nonce: 1n, tip: 1n * GWEI, fee: 10n * GWEI }),
    ]);
    const b0 = await pool.addRemote(tx1559(keyB, { nonce: 0n, tip: 2n * GWEI, fee: 10n * GWEI }));
    // A's tail (nonce 1, tip 1) is the cheapest tail; a tip of 1 gwei does not beat it.
    const [same] = await pool.addRemotes([tx1559(keyC, { nonce: 0n, tip: 1n * GWEI, fee: 10n * GWEI })]);
    expect(same?.ok === false && same.error.code).toBe(TxPoolErrorCode.Underpriced);
    expect(same?.ok === false && same.error.message).toBe("transaction underpriced");
    const c0 = await pool.addRemote(tx1559(keyC, { nonce: 0n, tip: 3n * GWEI, fee: 10n * GWEI }));
    expect(pool.size).toBe(3);
    expect(pool.has(c0) && pool.has(b0)).toBe(true);
    expect(pool.contentFrom(A).pending).not.toHaveProperty("1");
    await flush();
    expect(removed.map((r) => [r.from, r.nonce, r.reason])).toEqual([[A, 1n, "evicted"]]);
  });

  it("ranks eviction by effective tip at the next base fee", async () => {
    const { pool } = setup({ globalSlots: 2 });
    await pool.start(head({ nextBaseFee: 9n * GWEI }));
    // A: tip cap 5 but fee cap 10 -> effective tip 1 at base fee 9. B: tip 2, fee 20 -> 2.
    await pool.addRemote(tx1559(keyA, { nonce: 0n, tip: 5n * GWEI, fee: 10n * GWEI }));
    const b = await pool.addRemote(tx1559(keyB, { nonce: 0n, tip: 2n * GWEI, fee: 20n * GWEI }));
    const c = await pool.addRemote(tx1559(keyC, { nonce: 0n, tip: 3n * GWEI, fee: 20n * GWEI }));
    expect(pool.has(b) && pool.has(c)).toBe(true);
    expect(pool.contentFrom(A).pending).toEqual({});
  });

  it("never lets a future transaction push out an executable one, and says when the pool is full", async () => {
    const { pool } = setup({ globalSlots: 2 });
    await pool.start(head());
    await pool.addRemotes([tx1559(keyA, { nonce: 0n, tip: GWEI }), tx1559(keyB, { nonce: 0n, tip: GWEI })]);
    const [future] = await pool.addRemotes([tx1559(keyC, { nonce: 4n, tip: 50n * GWEI, fee: 100n * GWEI })]);
    expect(future?.ok === false && future.error.code).toBe(TxPoolErrorCode.PoolFull);
    expect(future?.ok === false && future.error.message).toBe("txpool is full");
    expect(pool.status()).toEqual({ pending: 2, queued: 0 });
  });

  it("caps the queue separately", async () => {
    const { pool } = setup({ globalQueue: 1 });
    await pool.start(head());
    await pool.addRemote(tx1559(keyA, { nonce: 5n, tip: GWEI }));
    const b = await pool.addRemote(tx1559(keyB, { nonce: 5n, tip: 2n * GWEI }));
    expect(pool.status()).toEqual({ pending: 0, queued: 1 });
    expect(pool.has(b)).toBe(true);
  });

  it("keeps local transactions out of eviction", async () => {
    const { pool } = setup({ globalSlots: 1 });
    await pool.start(head());
    const local = await pool.addLocal(tx1559(keyA, { nonce: 0n, tip: GWEI }));
    const [r] = await pool.addRemotes([tx1559(keyB, { nonce: 0n, tip: 9n * GWEI, fee: 20n * GWEI })]);
    expect(r?.ok === false && r.error.code).toBe(TxPoolErrorCode.PoolFull);
    expect(pool.has(local)).toBe(true);
  });

  it("drops remote transactions queued longer than the lifetime", async () => {
    const clock = new FakeClock(0);
    const { pool, removed } = setup({ lifetimeMs: 60_000 }, clock);
    await pool.start(head());
    const q = await pool.addRemote(tx1559(keyA, { nonce: 3n }));
    const local = await pool.addLocal(tx1559(keyB, { nonce: 3n }));
    await pool.addRemote(tx1559(keyC, { nonce: 0n }));
    clock.advance(59_999);
    expect(await pool.expire()).toBe(0);
    clock.advance(1);
    await pool.onNewHead(head({ number: 2n }));
    expect(pool.has(q)).toBe(false);
    expect(pool.has(local)).toBe(true);
    expect(pool.status()).toEqual({ pending: 1, queued: 1 });
    await flush();
    expect(removed).toEqual([{ hash: q, from: A, nonce: 3n, reason: "expired" }]);
  });
});

describe("ordering", () => {
  it("orders senders by effective tip and keeps each sender's nonce order", async () => {
    const { pool } = setup();
    await pool.start(head({ nextBaseFee: GWEI }));
    await pool.addRemotes([
      tx1559(keyA, { nonce: 0n, tip: 1n * GWEI, fee: 10n * GWEI }),
      tx1559(keyA, { nonce: 1n, tip: 9n * GWEI, fee: 20n * GWEI }),
      tx1559(keyB, { nonce: 0n, tip: 3n * GWEI, fee: 10n * GWEI }),
      tx1559(keyB, { nonce: 1n, tip: 2n * GWEI, fee: 10n * GWEI }),
      tx1559(keyC, { nonce: 0n, tip: 3n * GWEI, fee: 4n * GWEI }), // effective tip 3 at base fee 1
    ]);
    // C0 (3, seen after B0) ties with B0 (3): first seen first.
    expect(order(pool)).toEqual(["B0", "C0", "B1", "A0", "A1"]);
    // At base fee 4 C's fee cap leaves no tip; at base fee 5 C is not includable at all.
    expect(order(pool, 4n * GWEI)).toEqual(["B0", "B1", "A0", "A1", "C0"]);
    expect(order(pool, 5n * GWEI)).toEqual(["B0", "B1", "A0", "A1"]);
  });

  it("breaks equal tips by arrival", async () => {
    const { pool } = setup();
    await pool.start(head({ nextBaseFee: 0n }));
    await pool.addRemote(tx1559(keyC, { nonce: 0n, tip: GWEI }));
    await pool.addRemote(tx1559(keyA, { nonce: 0n, tip: GWEI }));
    await pool.addRemote(tx1559(keyB, { nonce: 0n, tip: GWEI }));
    expect(order(pool)).toEqual(["C0", "A0", "B0"]);
  });

  it("shift moves to the sender's next nonce, pop drops the sender", async () => {
    const { pool } = setup();
    await pool.start(head({ nextBaseFee: 0n }));
    await pool.addRemotes([
      tx1559(keyA, { nonce: 0n, tip: 5n * GWEI, fee: 10n * GWEI }),
      tx1559(keyA, { nonce: 1n, tip: 5n * GWEI, fee: 10n * GWEI }),
      tx1559(keyB, { nonce: 0n, tip: 4n * GWEI, fee: 10n * GWEI }),
      tx1559(keyB, { nonce: 1n, tip: 4n * GWEI, fee: 10n * GWEI }),
    ]);
    const it = pool.pending();
    expect(it.peek()?.from).toBe(A);
    it.pop(); // A0 did not fit: A1 cannot run either
    expect(it.peek()?.nonce).toBe(0n);
    expect(it.peek()?.from).toBe(B);
    it.shift();
    expect([it.peek()?.from, it.peek()?.nonce]).toEqual([B, 1n]);
    it.shift();
    expect(it.peek()).toBeUndefined();
    expect(it.senders).toBe(0);
  });

  it("skips queued transactions", async () => {
    const { pool } = setup();
    await pool.start(head({ nextBaseFee: 0n }));
    await pool.addRemotes([
      tx1559(keyA, { nonce: 0n }),
      tx1559(keyA, { nonce: 2n }),
      tx1559(keyB, { nonce: 1n }),
    ]);
    expect(order(pool)).toEqual(["A0"]);
  });
});

describe("after a commit", () => {
  it("removes included transactions and promotes what became executable", async () => {
    const { pool, state, removed } = setup();
    await pool.start(head());
    const [a0, a1, a2] = (await pool.addRemotes([0n, 1n, 2n].map((n) => tx1559(keyA, { nonce: n })))).map(
      (r) => (r.ok ? r.hash : ("" as Hex)),
    );
    await pool.addRemote(tx1559(keyB, { nonce: 1n }));
    state.set(A, { nonce: 2n });
    state.set(B, { nonce: 1n });
    await pool.onNewHead(head({ number: 2n, includedTxHashes: [a0 as Hex] }));
    expect(pool.has(a0 as Hex) || pool.has(a1 as Hex)).toBe(false);
    expect(pool.has(a2 as Hex)).toBe(true);
    expect(pool.status()).toEqual({ pending: 2, queued: 0 });
    await flush();
    expect(removed.map((r) => [r.nonce, r.reason])).toEqual([
      [0n, "included"],
      [1n, "nonce-too-low"],
    ]);
  });

  it("drops what the sender can no longer pay and demotes what followed", async () => {
    const { pool, state, removed } = setup();
    await pool.start(head());
    const cost = 21_000n * 2n * GWEI + 1n;
    state.set(A, { balance: 10n * cost });
    await pool.addRemotes([0n, 1n, 2n, 3n].map((n) => tx1559(keyA, { nonce: n })));
    expect(pool.status()).toEqual({ pending: 4, queued: 0 });
    state.set(A, { balance: 2n * cost });
    await pool.onNewHead(head({ number: 2n }));
    // Two are still paid for; the other two wait in the queue for funds.
    expect(pool.status()).toEqual({ pending: 2, queued: 2 });
    state.set(A, { balance: cost - 1n });
    await pool.onNewHead(head({ number: 3n }));
    expect(pool.size).toBe(0);
    await flush();
    expect(removed.every((r) => r.reason === "insufficient-funds")).toBe(true);
    state.set(A, { balance: 10n * cost });
    await pool.addRemotes([0n, 1n, 2n].map((n) => tx1559(keyA, { nonce: n })));
    expect(pool.status()).toEqual({ pending: 3, queued: 0 });
  });

  it("drops what no longer fits the block gas limit and demotes its successors", async () => {
    const { pool } = setup();
    await pool.start(head());
    await pool.addRemotes([
      tx1559(keyA, { nonce: 0n }),
      tx1559(keyA, { nonce: 1n, gas: 500_000n }),
      tx1559(keyA, { nonce: 2n }),
    ]);
    await pool.onNewHead(head({ number: 2n, gasLimit: 100_000n }));
    expect(pool.status()).toEqual({ pending: 1, queued: 1 });
    expect(Object.keys(pool.contentFrom(A).queued)).toEqual(["2"]);
  });

  it("orders at the new head's base fee", async () => {
    const { pool } = setup();
    await pool.start(head({ nextBaseFee: 0n }));
    await pool.addRemote(tx1559(keyA, { nonce: 0n, tip: 5n * GWEI, fee: 6n * GWEI }));
    await pool.addRemote(tx1559(keyB, { nonce: 0n, tip: 2n * GWEI, fee: 20n * GWEI }));
    expect(order(pool)).toEqual(["A0", "B0"]);
    await pool.onNewHead(head({ number: 2n, nextBaseFee: 5n * GWEI }));
    expect(order(pool)).toEqual(["B0", "A0"]);
  });
});

describe("options", () => {
  it("refuses nonsense limits at construction", () => {
    const state = new TestState();
    expect(() => new TxPool({ chainId: CHAIN_ID, accountSlots: 0 }, { state })).toThrow(/accountSlots/);
    expect(() => new TxPool({ chainId: CHAIN_ID, globalQueue: 1.5 }, { state })).toThrow(/globalQueue/);
    expect(() => new TxPool({ chainId: 0n }, { state })).toThrow(/chainId/);
  });
});
