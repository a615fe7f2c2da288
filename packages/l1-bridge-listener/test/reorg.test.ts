// Reorgs made on a real dev L1 with evm_snapshot / evm_revert.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { L1BridgeListener, type L1Event, L1ListenerErrorCode, type L1Reorg } from "../src/index.ts";
import { GWEI, startTestL1, type TestL1, tempStore } from "./helpers.ts";

let t: TestL1;
beforeAll(async () => {
  t = await startTestL1();
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

async function listenerAt(confirmations: number, extra: { maxReorgDepth?: bigint } = {}) {
  const db = await tempStore();
  const startBlock = (await t.client.getBlockNumber()) + 1n;
  const listener = new L1BridgeListener(
    {
      endpoints: [t.l1.rpcUrl],
      l1ChainId: t.l1.chainId,
      contracts: t.contracts,
      startBlock,
      confirmations,
      ...extra,
    },
    { store: db.store },
  );
  const events: L1Event[] = [];
  const reorgs: L1Reorg[] = [];
  const fatal: { code: string }[] = [];
  listener.events.on("event", (e) => {
    events.push(e);
  });
  listener.events.on("reorg", (r) => {
    reorgs.push(r);
  });
  listener.events.on("fatal", (f) => {
    fatal.push(f);
  });
  const tick = () => new Promise((r) => setImmediate(r));
  return {
    listener,
    events,
    reorgs,
    fatal,
    async poll(n = 1) {
      for (let i = 0; i < n; i++) await listener.pollOnce();
      await tick();
    },
    async close() {
      await listener.stop();
      await db.close();
    },
    db,
  };
}

const recipient = "0x000000000000000000000000000000000000bEEF" as const;

describe("reorgs on a real dev L1", () => {
  it("a block reorged away before it has its confirmations is never emitted", async () => {
    const l = await listenerAt(3);
    try {
      await l.poll();
      const snap = await t.snapshot();
      await t.deposit(recipient, 111n * GWEI); // fork A: 1 block
      await t.mine(1); // depth 2 < 3
      await l.poll(2);
      expect(l.events).toEqual([]);
      await t.revert(snap);
      await t.deposit(recipient, 222n * GWEI); // fork B
      await t.mine(3);
      await l.poll(2);
      expect(l.events.map((e) => e.type === "deposit" && e.amount / GWEI)).toEqual([222n]);
      expect(l.reorgs).toEqual([]);
      const canonical = await t.client.getBlock({ blockNumber: l.events[0]!.l1.blockNumber });
      expect(l.events[0]!.l1.blockHash).toBe(canonical.hash);
    } finally {
      await l.close();
    }
  }, 60_000);

  it("a reorg below the cursor walks back to the common ancestor, reports and forgets what it removed", async () => {
    const l = await listenerAt(1);
    try {
      await t.deposit(recipient, 1n * GWEI); // stays canonical
      await t.mine(1);
      await l.poll(2);
      expect(l.events.map((e) => e.type === "deposit" && e.amount / GWEI)).toEqual([1n]);
      const ancestorBlock = l.listener.status().cursor!;
      const snap = await t.snapshot();
      await t.deposit(recipient, 2n * GWEI); // fork A
      await t.mine(1);
      await l.poll(2);
      expect(l.events.map((e) => e.type === "deposit" && e.amount / GWEI)).toEqual([1n, 2n]);
      const removedEvent = l.events[1]!;
      await t.revert(snap);
      await t.mine(1);
      await t.deposit(recipient, 3n * GWEI); // fork B, longer
      await t.mine(2);
      await l.poll(3);
      expect(l.reorgs).toHaveLength(1);
      const r = l.reorgs[0]!;
      expect(r.ancestor).toEqual(ancestorBlock);
      expect(r.removed.map((b) => b.hash)).toContain(removedEvent.l1.blockHash);
      expect(r.forgotten).toEqual({ fromSeq: removedEvent.seq, toSeq: removedEvent.seq + 1 });
      // fork B's deposit arrives after the reorg with a new seq and fork B's block hash
      expect(l.events.map((e) => e.type === "deposit" && e.amount / GWEI)).toEqual([1n, 2n, 3n]);
      const b = l.events[2]!;
      expect(b.seq).toBe(removedEvent.seq + 1);
      expect(b.l1.blockHash).toBe((await t.client.getBlock({ blockNumber: b.l1.blockNumber })).hash);
      // the stored log no longer holds the removed event
      const stored = await l.listener.readConfirmed(0);
      expect(stored.map((e) => e.type === "deposit" && e.amount / GWEI)).toEqual([1n, 3n]);
      expect(l.fatal).toEqual([]);
    } finally {
      await l.close();
    }
  }, 60_000);

  it("a same-height fork with nothing new to read is found by the cursor check", async () => {
    const l = await listenerAt(0);
    try {
      await l.poll();
      const snap = await t.snapshot();
      const a = await t.deposit(recipient, 5n * GWEI);
      await l.poll();
      expect(l.listener.status().cursor?.number).toBe(a);
      await t.revert(snap);
      const b = await t.deposit(recipient, 6n * GWEI); // same height, other hash: head == cursor
      expect(b).toBe(a);
      await l.poll(); // cursor check: mismatch, rewind
      expect(l.reorgs).toHaveLength(1);
      expect(l.reorgs[0]!.removed.map((x) => x.number)).toEqual([a]);
      await l.poll(); // reads fork B's block
      expect(l.events.map((e) => e.type === "deposit" && e.amount / GWEI)).toEqual([5n, 6n]);
      expect((await l.listener.readConfirmed(0)).map((e) => e.type === "deposit" && e.amount / GWEI)).toEqual(
        [6n],
      );
    } finally {
      await l.close();
    }
  }, 60_000);

  it("a reorg deeper than the blocks it remembers halts the listener loudly", async () => {
    const snap = await t.snapshot();
    const l = await listenerAt(0, { maxReorgDepth: 2n });
    try {
      await t.deposit(recipient, 10n * GWEI);
      await t.mine(8);
      await l.poll(2);
      expect(l.listener.status().cursor?.number).toBe(await t.client.getBlockNumber());
      await t.revert(snap);
      await t.deposit(recipient, 20n * GWEI);
      await t.mine(12);
      await expect(l.listener.pollOnce()).rejects.toMatchObject({ code: L1ListenerErrorCode.ReorgTooDeep });
      // the loop turns the same failure into `fatal` and stops
      l.listener.start();
      for (let i = 0; i < 100 && l.fatal.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(l.fatal[0]?.code).toBe(L1ListenerErrorCode.ReorgTooDeep);
      expect(l.listener.status()).toMatchObject({ halted: true, running: false });
      expect(l.events.map((e) => e.type === "deposit" && e.amount / GWEI)).toEqual([10n]);
    } finally {
      await l.close();
    }
  }, 60_000);
});
