import { createMetrics } from "@dseq/common";
import { increaseTime, LockingPoolArtifact } from "@dseq/l1-contracts";
import { type Hex, zeroHash } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { L1BridgeListener, type L1Event, toRotationStakeChange } from "../src/index.ts";
import { E18, GWEI, startTestL1, type TestL1, tempStore } from "./helpers.ts";

let t: TestL1;
beforeAll(async () => {
  t = await startTestL1();
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

async function drain(listener: L1BridgeListener): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await listener.pollOnce();
    const s = listener.status();
    if (s.cursor && s.head !== undefined && s.cursor.number >= s.head - BigInt(listenerConfirmations)) return;
  }
  throw new Error("listener did not catch up");
}
const listenerConfirmations = 2;

describe("L1BridgeListener against a real dev L1", () => {
  it("emits every LockingPool, DepositBridge and BatchInbox event once, in L1 order, and survives a restart", async () => {
    const pool = LockingPoolArtifact.abi;
    await t.lock(0, 2, 30_000n * E18);
    await t.send(0, t.d.lockingPool, pool, "relock", [1n, 5_000n * E18, false]);
    await t.send(0, t.d.lockingPool, pool, "withdraw", [1n, 10_000n * E18]);
    const s3 = t.signerOf(3);
    await t.send(0, t.d.lockingPool, pool, "updateSigner", [1n, s3.pubkey]);
    await t.send(0, t.d.lockingPool, pool, "setSequencerRewardRecipient", [1n, t.l1.accounts[1]!.address]);
    await t.send(0, t.d.lockingPool, pool, "updateMinAmounts", [21_000n * E18]);
    await t.lock(1, 4, 21_000n * E18);
    await t.send(0, t.d.lockingPool, pool, "unlock", [1n]);
    await increaseTime(t.l1.rpcUrl, 61);
    await t.send(0, t.d.lockingPool, pool, "unlockClaim", [1n]);
    await t.deposit(t.l1.accounts[5]!.address, 5n * E18);
    await t.deposit(t.l1.accounts[5]!.address, 6n * E18);
    await t.appendBatch(1n, zeroHash, 1n, 10n);
    await t.rotateGroupKey(0n);
    await t.mine(listenerConfirmations);

    const db = await tempStore();
    const metrics = createMetrics();
    const opts = {
      endpoints: [t.l1.rpcUrl],
      l1ChainId: t.l1.chainId,
      contracts: t.contracts,
      startBlock: t.d.startBlock,
      confirmations: listenerConfirmations,
      maxBlockRange: 4n,
    };
    const listener = new L1BridgeListener(opts, { store: db.store, metrics });
    const seen: L1Event[] = [];
    listener.events.on("event", (e) => {
      seen.push(e);
    });
    try {
      await drain(listener);
      await new Promise((r) => setImmediate(r));
      const summary = seen.map((e) =>
        e.type === "stake" ? `${e.change.kind}:${e.sequencerId}:${e.nonce}` : e.type,
      );
      expect(summary).toEqual([
        "groupKeyRotated", // BatchInbox constructor, epoch 0
        "params", // LockingPool constructor
        "lock:1:1",
        "increase:1:2",
        "withdraw:1:3",
        "signerUpdate:1:4",
        "rewardRecipientUpdate:1:5",
        "params",
        "lock:2:1",
        "unlockStart:1:6",
        "unlockComplete:1:7",
        "deposit",
        "deposit",
        "batchAppended",
        "groupKeyRotated",
      ]);
      expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i));
      const ids = new Set(seen.map((e) => `${e.l1.blockHash}:${e.l1.logIndex}`));
      expect(ids.size).toBe(seen.length);
      // provenance is the real L1's
      const block = await t.client.getBlock({ blockNumber: seen[2]!.l1.blockNumber });
      expect(seen[2]!.l1.blockHash).toBe(block.hash);
      const [inc, wd] = [seen[3], seen[4]];
      expect(inc?.type === "stake" && inc.change).toMatchObject({
        kind: "increase",
        amount: 5_000n * E18,
        newAmount: 35_000n * E18,
      });
      expect(wd?.type === "stake" && wd.change).toMatchObject({
        kind: "withdraw",
        amount: 10_000n * E18,
        newAmount: 25_000n * E18,
      });
      expect(seen[7]).toMatchObject({
        type: "params",
        minLock: 21_000n * E18,
        maxLock: 100_000n * E18,
        exitDelay: 60n,
      });
      expect(
        seen.filter((e) => e.type === "deposit").map((e) => e.type === "deposit" && [e.nonce, e.amount]),
      ).toEqual([
        [1n, 5n * E18],
        [2n, 6n * E18],
      ]);
      expect(seen[13]).toMatchObject({
        type: "batchAppended",
        batchIndex: 1n,
        firstBlock: 1n,
        lastBlock: 10n,
        dataKind: 0,
      });
      expect(seen[14]).toMatchObject({ type: "groupKeyRotated", epoch: 1n });
      // the rotation schedule's view: every set change, addresses lower-case
      const changes = seen.map(toRotationStakeChange).filter((c) => c !== undefined);
      expect(changes.map((c) => c.kind)).toEqual([
        "lock",
        "increase",
        "withdraw",
        "signerUpdate",
        "rewardRecipientUpdate",
        "lock",
        "unlockStart",
        "unlockComplete",
      ]);
      expect(changes[3]).toEqual({
        kind: "signerUpdate",
        id: 1,
        signer: s3.address.toLowerCase(),
        signerPubkey: s3.pubkey.toLowerCase(),
      });

      // metrics
      const head = await t.client.getBlockNumber();
      expect((await metrics.values("dseq_l1_head"))[0]?.value).toBe(Number(head));
      expect((await metrics.values("dseq_l1_lag_blocks"))[0]?.value).toBe(listenerConfirmations);
      const byType = await metrics.values("dseq_l1_events_total");
      expect(byType.find((v) => v.labels.type === "stake")?.value).toBe(8);

      // stored events read back equal what was emitted
      expect(await listener.readConfirmed(0)).toEqual(seen);
      const cursor = listener.status().cursor;
      await listener.stop();

      // restart on the same LevelDB: nothing again, then only what is new
      const store = await db.reopen();
      const again = new L1BridgeListener(opts, { store });
      const later: L1Event[] = [];
      again.events.on("event", (e) => {
        later.push(e);
      });
      await drain(again);
      expect(again.status().cursor).toEqual(cursor);
      expect(later).toEqual([]);
      await t.deposit(t.l1.accounts[5]!.address, 7n * E18);
      await t.mine(listenerConfirmations);
      await drain(again);
      await new Promise((r) => setImmediate(r));
      expect(later.map((e) => [e.type, e.seq, e.type === "deposit" && e.nonce])).toEqual([
        ["deposit", 15, 3n],
      ]);
      await again.stop();
    } finally {
      await listener.stop();
      await db.close();
    }
  }, 120_000);

  it("runs its own loop: start() returns at once, events arrive, stop() ends it", async () => {
    const db = await tempStore();
    const from = (await t.client.getBlockNumber()) + 1n;
    const listener = new L1BridgeListener(
      {
        endpoints: [t.l1.rpcUrl],
        l1ChainId: t.l1.chainId,
        contracts: t.contracts,
        startBlock: from,
        confirmations: 0,
        pollIntervalMs: 50,
      },
      { store: db.store },
    );
    try {
      const got = new Promise<L1Event>((resolve) => listener.events.once("event", resolve));
      listener.start();
      const mined = await t.deposit(t.l1.accounts[4]!.address, GWEI);
      const e = await got;
      expect(e).toMatchObject({ type: "deposit", amount: GWEI, l1: { blockNumber: mined } });
    } finally {
      await listener.stop();
      await db.close();
    }
    expect(listener.status().running).toBe(false);
  }, 60_000);

  it("a listener starting after a sequencer locked (the genesis set) turns its LockUpdate into the right delta", async () => {
    // Sequencer 2 (owner 1) locked 21,000 in the first test, before this listener's startBlock.
    const pool = LockingPoolArtifact.abi;
    const from = (await t.client.getBlockNumber()) + 1n;
    await t.send(1, t.d.lockingPool, pool, "relock", [2n, 1_000n * E18, false]);
    await t.mine(listenerConfirmations);
    const db = await tempStore();
    const listener = new L1BridgeListener(
      {
        endpoints: [t.l1.rpcUrl],
        l1ChainId: t.l1.chainId,
        contracts: t.contracts,
        startBlock: from,
        confirmations: listenerConfirmations,
      },
      { store: db.store },
    );
    const seen: L1Event[] = [];
    listener.events.on("event", (e) => {
      seen.push(e);
    });
    try {
      await drain(listener);
      await new Promise((r) => setImmediate(r));
      expect(listener.status().halted).toBe(false);
      expect(seen.map((e) => e.type === "stake" && [e.sequencerId, e.change])).toEqual([
        [
          2n,
          {
            kind: "increase",
            amount: 1_000n * E18,
            newAmount: 22_000n * E18,
            totalLocked: expect.any(BigInt),
          },
        ],
      ]);
    } finally {
      await listener.stop();
      await db.close();
    }
  }, 60_000);
});

export type { Hex };
