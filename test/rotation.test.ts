// e2e of key rotation (issue #24, ADR 0159): real `dseq start` processes, a real dev L1 (EDR,
// 1 s blocks), a real genesis DKG among 4 validators. A fifth validator joins by locking stake:
// the new set of 5 runs its DKG, the old group key signs rotateGroupKey and a submitter posts it
// once (GroupKeyRotated), every old member switches shares on the confirmed event, and the next
// batch is appended on L1 under the new key. afterAll stops every process and removes the temp dir.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The top-level test folder has no workspace links of its own: packages by their entry points.
import { inboxReader } from "../packages/batch-submitter/src/index.ts";
import { createLogger, type Hex } from "../packages/common/src/index.ts";
import { type Devnet, type DevnetNode, startDevnet } from "../packages/devnet/src/index.ts";
import { BatchInboxArtifact, type DevL1 } from "../packages/l1-contracts/src/index.ts";
// viem clients from l1-contracts' test helper (the top-level test folder has no viem of its own).
import { clients } from "../packages/l1-contracts/test/helpers.ts";
import { waitFor } from "./l1Helpers.ts";

const log = createLogger({ base: { test: "rotation-e2e" } });
const BLOCK_MS = 1000;
const SPAN = 8;

type Health = { batches?: { inGroup: boolean; groupKey?: string; pendingGroupKey?: string } };
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
    const next = await waitFor(
      "a batch appended after the rotation",
      async () => (await inbox.batches()).find((b) => b.l1Block > rotated.l1Block),
      60_000,
      500,
    );
    // The inbox appends only under a signature by its key at that block: the new one.
    const keyAt = (await client.readContract({
      address: d.l1!.deployment.batchInbox,
      abi: BatchInboxArtifact.abi,
      functionName: "groupKey",
      blockNumber: next.l1Block,
    })) as Hex;
    expect(keyAt.toLowerCase()).toBe(newKey);
    // Exactly one rotation, and every batch index once, in order.
    expect((await rotations()).map((r) => r.epoch)).toEqual([0n, 1n]);
    const idx = (await inbox.batches()).map((b) => Number(b.batchIndex));
    expect(idx).toEqual(idx.map((_, i) => i + 1));
  }, 240_000);
});
