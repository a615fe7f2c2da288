// e2e across L1 and L2: L1 reorgs made on the dev L1 (Hardhat 3 EDR) with evm_snapshot /
// evm_revert, against real `dseq start` processes (confirmations 2, 1 s L1 blocks). ADR 0110 and
// ADR 0123: a reorg inside the confirmation window is invisible (the dropped deposit is never
// credited, and credited once when it lands again); a reorg deeper than the confirmations, after
// L2 committed the deposit, is reported loudly (an error log and `deepReorgs` in
// dseq_syncStatus on every node), L2 never rolls back and keeps making blocks.
// afterAll stops every process and removes the temp dir.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The top-level test folder has no workspace links of its own: packages by their entry points.
import { createLogger } from "../packages/common/src/index.ts";
import { type Devnet, type DevnetNode, rpcCall, startDevnet } from "../packages/devnet/src/index.ts";
import { rpc } from "../packages/l1-contracts/src/index.ts";
import { balance, freshAddress, head, sleep, waitFor } from "./l1Helpers.ts";

const log = createLogger({ base: { test: "l1-reorg-e2e" } });
const BLOCK_MS = 2000;
const SPAN = 8;
const CONFIRMATIONS = 2;
const TOKEN = 10n ** 18n;

type L1Sync = {
  l1?: {
    reachable: boolean;
    head?: number;
    confirmed?: number;
    entriesConfirmed: string;
    deepReorgs?: number;
  };
};
const l1Of = async (n: DevnetNode) =>
  (await rpcCall<L1Sync>(n.rpcUrl, "dseq_syncStatus", [], 2000)).l1 as NonNullable<L1Sync["l1"]>;

describe("L1 reorgs end to end", () => {
  let root: string;
  let d: Devnet;
  let direct: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "l1-reorg-e2e-"));
    d = await startDevnet({
      dataDir: join(root, "net"),
      validators: 4,
      followers: 0,
      blockTimeMs: BLOCK_MS,
      spanLength: SPAN,
      reelectAfterMisses: 3,
      loadAccounts: 1,
      readyTimeoutMs: 120_000,
      // No batch posting (ADR 0155): its transactions would mine blocks while this test freezes L1.
      l1: { blockTimeSeconds: 1, confirmations: CONFIRMATIONS, pollIntervalMs: 300, batches: false },
      logger: log,
    });
    direct = d.l1!.directUrl;
    await waitFor(
      "every node at height 2 and following L1",
      async () =>
        (await Promise.all(d.validators.map(head))).every((h) => h >= 2) &&
        (await Promise.all(d.validators.map(l1Of))).every((s) => s.reachable && s.confirmed !== undefined),
      150_000,
    );
  }, 300_000);

  afterAll(async () => {
    await d?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it("a reorg inside the confirmation window drops a deposit: nothing is credited until it lands again, then once", async () => {
    const to = freshAddress();
    const amount = 4n * TOKEN;
    const entriesBefore = (await l1Of(d.validators[0]!)).entriesConfirmed;
    // Freeze L1 (no interval blocks, each transaction mined at once) so the reorg is exactly as
    // deep as the deposit: its block never gets the CONFIRMATIONS blocks on top it needs.
    await rpc(direct, "evm_setIntervalMining", [0]);
    await rpc(direct, "evm_setAutomine", [true]);
    const snap = await rpc(direct, "evm_snapshot", []);
    const depositBlock = await d.l1!.deposit(to, amount);
    expect(await d.l1!.blockNumber()).toBe(depositBlock); // nothing on top: unconfirmed
    // Over two L2 block times the nodes poll (every 300 ms) and see the unconfirmed block: a node
    // that took it as confirmed would count it here and put it into the next L2 block.
    for (const end = Date.now() + 2 * BLOCK_MS + 500; Date.now() < end; await sleep(250))
      for (const n of d.validators) expect((await l1Of(n)).entriesConfirmed).toBe(entriesBefore);
    for (const n of d.validators) expect((await l1Of(n)).head).toBe(Number(depositBlock));
    expect(await rpc(direct, "evm_revert", [snap])).toBe(true);
    expect(await d.l1!.blockNumber()).toBeLessThan(depositBlock);
    await d.l1!.intervalMining();

    // L1 grows past where the deposit was, with its confirmations; L2 goes on; nothing credited.
    await waitFor(
      "L1 past the dropped deposit's confirmation",
      async () => (await d.l1!.blockNumber()) >= depositBlock + BigInt(CONFIRMATIONS) + 2n,
      30_000,
    );
    const h0 = await head(d.validators[0]!);
    await waitFor("3 more L2 blocks", async () => (await head(d.validators[0]!)) >= h0 + 3, 30_000);
    for (const n of d.validators) {
      expect(await balance(n, to)).toBe(0n);
      const s = await l1Of(n);
      expect(s.entriesConfirmed).toBe(entriesBefore);
      expect(s.deepReorgs ?? 0).toBe(0);
    }

    // The deposit lands again (a new L1 transaction): credited once, on every node.
    await d.l1!.deposit(to, amount);
    await waitFor("credited on v1", async () => (await balance(d.validators[0]!, to)) === amount, 60_000);
    const h1 = await head(d.validators[0]!);
    await waitFor("3 more L2 blocks", async () => (await head(d.validators[0]!)) >= h1 + 3, 30_000);
    for (const n of d.validators) expect(await balance(n, to)).toBe(amount);
    expect(BigInt((await l1Of(d.validators[0]!)).entriesConfirmed)).toBe(BigInt(entriesBefore) + 1n);
  }, 180_000);

  it("a reorg deeper than the confirmations, after L2 credited the deposit, is reported on every node; L2 keeps it and goes on", async () => {
    const to = freshAddress();
    const amount = 2n * TOKEN;
    const snap = await rpc(direct, "evm_snapshot", []);
    await d.l1!.deposit(to, amount);
    await waitFor(
      "credited on every node",
      async () => {
        const b = await Promise.all(d.validators.map((n) => balance(n, to)));
        return b.every((x) => x === amount);
      },
      60_000,
    );
    // Now drop the deposit's L1 blocks: deeper than CONFIRMATIONS, below the listeners' cursors.
    expect(await rpc(direct, "evm_revert", [snap])).toBe(true);
    await d.l1!.intervalMining();
    await waitFor(
      "every node reports the deep reorg",
      async () => (await Promise.all(d.validators.map(l1Of))).every((s) => (s.deepReorgs ?? 0) >= 1),
      60_000,
    );
    // L2 is final: the credit stays, and blocks keep coming.
    const h0 = await head(d.validators[1]!);
    await waitFor("3 more L2 blocks", async () => (await head(d.validators[1]!)) >= h0 + 3, 30_000);
    for (const n of d.validators) {
      expect(await balance(n, to)).toBe(amount);
      const s = await l1Of(n);
      expect(s.reachable).toBe(true);
    }
  }, 180_000);
});
