// e2e of key rotation (issue #24, ADR 0159): real `dseq start` processes, a real dev L1 (EDR,
// 1 s blocks), a real genesis DKG among 4 validators. A fifth validator joins by locking stake:
// the new set of 5 runs its DKG, the old group key signs rotateGroupKey and a submitter posts it
// once (GroupKeyRotated), every old member switches shares on the confirmed event, and the next
// batch is appended on L1 under the new key. Then genesis validator v1 leaves by unlocking its
// stake: the remaining set of 4 runs its DKG, exactly one more rotation lands, batches cover every
// block without a gap across it, v1's /health says it is out of the group, and the next batch is
// appended under the newest key. afterAll stops every process and removes the temp dir.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The top-level test folder has no workspace links of its own: packages by their entry points.
import { inboxReader } from "../packages/batch-submitter/src/index.ts";
import { createLogger, type Hex } from "../packages/common/src/index.ts";
import { type Devnet, type DevnetNode, rpcCall, startDevnet } from "../packages/devnet/src/index.ts";
import { BatchInboxArtifact, type DevL1 } from "../packages/l1-contracts/src/index.ts";
// viem clients from l1-contracts' test helper (the top-level test folder has no viem of its own).
import { clients } from "../packages/l1-contracts/test/helpers.ts";
import { waitFor } from "./l1Helpers.ts";

const log = createLogger({ base: { test: "rotation-e2e" } });
const BLOCK_MS = 1000;
const SPAN = 8;

type Health = {
  batches?: { inGroup: boolean; groupKey?: string; pendingGroupKey?: string; epoch?: number };
};
type Span = { index: number; startHeight: number; validators: string[] };
const health = async (n: DevnetNode): Promise<Health> =>
  (await (await fetch(`${n.adminUrl}/health`)).json()) as Health;

describe("key rotation: a validator joins by locking stake, L1 rotates to the new set's key", () => {
  let root: string;
  let d: Devnet;
  let inbox: ReturnType<typeof inboxReader>;
  let client: ReturnType<typeof clients>["publicClient"];
  const rotations = async () =>
    (
      await client.getContractEvents({
        address: d.l1!.deployment.batchInbox,
        abi: BatchInboxArtifact.abi,
        eventName: "GroupKeyRotated",
        fromBlock: 0n,
      })
    ).map((l) => ({ ...(l.args as { epoch: bigint; newKey: Hex }), l1Block: l.blockNumber as bigint }));

  /**
   * The first batch appended after L1 block `l1Block`, checked to be under `key`: the inbox appends
   * only under a signature by its key at that block.
   */
  const batchAfter = async (l1Block: bigint, key: string, what: string) => {
    const next = await waitFor(
      what,
      async () => (await inbox.batches()).find((b) => b.l1Block > l1Block),
      60_000,
      500,
    );
    const keyAt = (await client.readContract({
      address: d.l1!.deployment.batchInbox,
      abi: BatchInboxArtifact.abi,
      functionName: "groupKey",
      blockNumber: next.l1Block,
    })) as Hex;
    expect(keyAt.toLowerCase()).toBe(key);
    return next;
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "rotation-e2e-"));
    const t0 = Date.now();
    d = await startDevnet({
      dataDir: join(root, "net"),
      validators: 4,
      followers: 0,
      blockTimeMs: BLOCK_MS,
      spanLength: SPAN,
      readyTimeoutMs: 120_000,
      l1: {
        blockTimeSeconds: 1,
        confirmations: 2,
        pollIntervalMs: 300,
        batches: { maxBlocks: 10, maxAgeSeconds: 4, confirmations: 2, takeoverMs: 3000, pollMs: 500 },
      },
      logger: log,
    });
    inbox = inboxReader(d.l1!.directUrl, d.l1!.deployment.batchInbox);
    const l1 = d.l1!;
    client = clients({
      chainId: l1.chainId,
      rpcUrl: l1.directUrl,
      accounts: [...l1.accounts],
    } as DevL1).publicClient;
    log.info("rotation devnet up", { ms: Date.now() - t0 });
  }, 240_000);

  afterAll(async () => {
    await d?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it("joins, rotates on L1 once, switches shares, and the next batch verifies under the new key", async () => {
    await waitFor(
      "a batch under the genesis key",
      async () => (await inbox.batches()).length >= 1,
      60_000,
      500,
    );
    const oldKey = (await inbox.groupKey()).toLowerCase();
    expect((await rotations()).map((r) => r.epoch)).toEqual([0n]); // the deployment's

    const t0 = Date.now();
    const { node: joined } = await d.addValidator();
    const rotated = await waitFor(
      "GroupKeyRotated to the new set's key",
      async () => (await rotations()).find((r) => r.epoch === 1n),
      150_000,
      500,
    );
    const newKey = rotated.newKey.toLowerCase();
    expect(newKey).not.toBe(oldKey);
    expect((await inbox.groupKey()).toLowerCase()).toBe(newKey);
    log.info("rotation landed", { ms: Date.now() - t0, l1Block: rotated.l1Block.toString() });

    // Every member now signs with the key L1 has: the joiner (its first key) and the old members
    // (shares switched on the confirmed GroupKeyRotated).
    await waitFor(
      "every validator on the new key",
      async () => {
        const hs = await Promise.all(d.validators.map(health));
        return hs.every(
          (h) => h.batches?.inGroup && h.batches.groupKey === newKey && !h.batches.pendingGroupKey,
        );
      },
      60_000,
      500,
    );
    expect(d.validators).toContain(joined);

    // The next batch lands after the rotation, so under the new key; check its signature on L1 too.
    await batchAfter(rotated.l1Block, newKey, "a batch appended after the rotation");
    // Exactly one rotation, and every batch index once, in order.
    expect((await rotations()).map((r) => r.epoch)).toEqual([0n, 1n]);
    const idx = (await inbox.batches()).map((b) => Number(b.batchIndex));
    expect(idx).toEqual(idx.map((_, i) => i + 1));
  }, 240_000);

  // The same devnet, after the join's rotation (epoch 1): genesis validator v1 unlocks its stake.
  it("a validator that unlocks leaves: the new set's DKG, one more rotation, batches without a gap", async () => {
    const leaver = d.node("v1");
    const stay = d.validators.filter((n) => n !== leaver);
    const before = (await inbox.groupKey()).toLowerCase();
    expect((await rotations()).map((r) => r.epoch)).toEqual([0n, 1n]);
    const joinEpoch = (await health(stay[0]!)).batches?.epoch ?? -1;

    const t0 = Date.now();
    const unlockL1Block = await client.getBlockNumber();
    await d.unlockValidator(leaver.name);
    // The new set takes over at a span start (every remaining node's schedule agrees).
    const span = await waitFor(
      "a span without the leaver",
      async () => {
        const s = await rpcCall<Span>(stay[0]!.rpcUrl, "dseq_span", [], 2000);
        return s.validators.some((a) => a.toLowerCase() === leaver.address.toLowerCase()) ? undefined : s;
      },
      4 * SPAN * BLOCK_MS + 30_000,
      500,
    );
    expect(span.validators.map((a) => a.toLowerCase()).sort()).toEqual(
      stay.map((n) => n.address.toLowerCase()).sort(),
    );
    log.info("set without the leaver", {
      ms: Date.now() - t0,
      span: span.index,
      startHeight: span.startHeight,
    });

    const rotated = await waitFor(
      "GroupKeyRotated to the remaining set's key",
      async () => (await rotations()).find((r) => r.epoch === 2n),
      150_000,
      500,
    );
    const newKey = rotated.newKey.toLowerCase();
    expect(newKey).not.toBe(before);
    expect((await inbox.groupKey()).toLowerCase()).toBe(newKey);
    expect((await rotations()).map((r) => r.epoch)).toEqual([0n, 1n, 2n]);
    log.info("leave rotation landed", { ms: Date.now() - t0, l1Block: rotated.l1Block.toString() });

    // Until the rotation landed, the old group (the leaver still in it) kept appending batches.
    const during = (await inbox.batches()).filter(
      (b) => b.l1Block > unlockL1Block && b.l1Block < rotated.l1Block,
    );
    expect(during.length).toBeGreaterThan(0);

    // The remaining members ran the new set's DKG (epoch = the span it started at) and sign with
    // the key L1 has; the leaver holds no share of it: not in the group.
    await waitFor(
      "remaining members on the new key, the leaver out of the group",
      async () => {
        const [l, ...hs] = await Promise.all([leaver, ...stay].map(health));
        const ok =
          l?.batches?.inGroup === false &&
          l.batches.groupKey === newKey &&
          hs.every(
            (h) =>
              h.batches?.inGroup === true &&
              h.batches.groupKey === newKey &&
              !h.batches.pendingGroupKey &&
              h.batches.epoch !== undefined &&
              h.batches.epoch > joinEpoch &&
              h.batches.epoch <= span.index,
          );
        // Thrown, so a timeout names what the nodes said last.
        if (!ok)
          throw new Error(JSON.stringify({ joinEpoch, leaver: l?.batches, stay: hs.map((h) => h.batches) }));
        return true;
      },
      60_000,
      500,
    );

    // The next batch after the rotation: accepted under the newest key, right after the last one.
    const next = await batchAfter(rotated.l1Block, newKey, "a batch appended after the leave rotation");
    const all = (await inbox.batches()).filter((b) => b.batchIndex <= next.batchIndex);
    expect(all.map((b) => Number(b.batchIndex))).toEqual(all.map((_, i) => i + 1));
    // Every committed block once, in order, across both set changes: no gap, no overlap.
    expect(all[0]?.firstBlock).toBe(1n);
    for (const [i, b] of all.entries())
      if (i > 0) expect(b.firstBlock, `batch ${b.batchIndex}`).toBe((all[i - 1]?.lastBlock ?? 0n) + 1n);
    // Its last block is the one the remaining set committed.
    const l2 = await rpcCall<{ hash: string }>(
      stay[0]!.rpcUrl,
      "eth_getBlockByNumber",
      [`0x${next.lastBlock.toString(16)}`, false],
      2000,
    );
    expect(next.lastBlockHash.toLowerCase()).toBe(l2.hash.toLowerCase());
    expect((await rotations()).map((r) => r.epoch)).toEqual([0n, 1n, 2n]); // and no further one
    log.info("batch after the leave", {
      ms: Date.now() - t0,
      batchIndex: next.batchIndex.toString(),
      firstBlock: next.firstBlock.toString(),
      batchesDuring: during.map((b) => `${b.firstBlock}-${b.lastBlock}`).join(" "),
      setStart: span.startHeight,
    });
  }, 300_000);
});
