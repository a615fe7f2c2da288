// e2e across L1 and L2: real `dseq start` processes and a real dev L1 (Hardhat 3 EDR, 1 s
// blocks, confirmations 2). One devnet of 4 validators serves the tests in order: a deposit is
// credited once; a validator joins by locking (and votes: the chain survives losing an original
// validator only with its vote); the L1 endpoint goes down for longer than a span (L2 goes on,
// the deposit made meanwhile arrives after); a node restarted mid-span rebuilds the same set;
// a validator that unlocks leaves. afterAll stops every process and removes the temp dir.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The top-level test folder has no workspace links of its own: packages by their entry points.
import { createLogger, type Hex } from "../packages/common/src/index.ts";
import {
  type Devnet,
  type DevnetNode,
  getBlock,
  rpcCall,
  startDevnet,
} from "../packages/devnet/src/index.ts";
import { balance, freshAddress, head, sleep, waitFor } from "./l1Helpers.ts";

const log = createLogger({ base: { test: "l1-devnet-e2e" } });
const BLOCK_MS = 2000;
const SPAN = 8;
const TOKEN = 10n ** 18n;

type Validators = { height: number; validators: { id: string; address: string; power: string }[] };
const validatorsOf = (n: DevnetNode) => rpcCall<Validators>(n.rpcUrl, "dseq_validators", [], 2000);
type Withdrawal = { index: string; validatorIndex: string; address: string; amount: string };
async function withdrawalsTo(
  n: DevnetNode,
  to: Hex,
  upTo: number,
): Promise<{ height: number; w: Withdrawal }[]> {
  const out: { height: number; w: Withdrawal }[] = [];
  for (let h = 1; h <= upTo; h++) {
    const b = (await getBlock(n.rpcUrl, h)) as unknown as { withdrawals?: Withdrawal[] } | undefined;
    for (const w of b?.withdrawals ?? [])
      if (w.address.toLowerCase() === to && w.validatorIndex === "0x0") out.push({ height: h, w });
  }
  return out;
}

describe("L1 and L2 end to end: stake on L1 drives the set, deposits reach L2", () => {
  let root: string;
  let d: Devnet;
  const running = () => d.nodes.filter((n) => n.state === "running");

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "l1-devnet-e2e-"));
    const t0 = Date.now();
    d = await startDevnet({
      dataDir: join(root, "net"),
      validators: 4,
      followers: 0,
      blockTimeMs: BLOCK_MS,
      spanLength: SPAN,
      reelectAfterMisses: 3,
      loadAccounts: 4,
      readyTimeoutMs: 120_000,
      l1: { blockTimeSeconds: 1, confirmations: 2, pollIntervalMs: 300 },
      logger: log,
    });
    await waitFor(
      "every node at height 2",
      async () => (await Promise.all(running().map(head))).every((h) => h >= 2),
      150_000,
    );
    log.info("L1 devnet up", { ms: Date.now() - t0, l1: d.l1?.rpcUrl });
  }, 300_000);

  afterAll(async () => {
    await d?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it("the genesis set is L1's: every validator locked through the LockingPool", async () => {
    const l1 = d.l1!;
    for (const v of d.validators) {
      const id = await l1.idOf(v.address);
      expect(id).toBeGreaterThan(0);
      expect((await l1.sequencer(id)).locked).toBe(50_000n * TOKEN);
    }
    const set = await validatorsOf(d.validators[0]!);
    expect(set.validators.map((v) => v.address).sort()).toEqual(d.validators.map((v) => v.address).sort());
  });

  let firstDeposit: { to: Hex; amount: bigint } | undefined;
  it("a deposit is credited once, on every node", async () => {
    const to = freshAddress();
    const amount = 5n * TOKEN;
    firstDeposit = { to, amount };
    const l1Block = await d.l1!.deposit(to, amount);
    const confirmedAt = await waitFor(
      "the deposit's L1 block confirmed",
      async () => ((await d.l1!.blockNumber()) >= l1Block + 2n ? Date.now() : undefined),
      30_000,
    );
    await waitFor("credited on v1", async () => (await balance(d.validators[0]!, to)) === amount, 60_000);
    const creditedAt = Date.now();
    log.info("deposit credited", { l1_event_to_l2_ms_upper_bound: creditedAt - confirmedAt });
    // Later blocks never credit it again; every node agrees.
    const h = await head(d.validators[0]!);
    await waitFor("3 more blocks", async () => (await head(d.validators[0]!)) >= h + 3, 30_000);
    for (const n of running()) expect(await balance(n, to)).toBe(amount);
    const ws = await withdrawalsTo(d.validators[0]!, to, await head(d.validators[0]!));
    expect(ws).toHaveLength(1);
    expect(BigInt(ws[0]!.w.amount)).toBe(amount / 10n ** 9n);
  }, 120_000);

  let joined: DevnetNode;
  it("a validator joins by locking: in the set after the next span, and its vote counts", async () => {
    const { node, sequencerId } = await d.addValidator();
    joined = node;
    log.info("validator added", { node: node.name, sequencerId });
    await waitFor(
      "the new validator in every node's set",
      async () => {
        const sets = await Promise.all(d.validators.map(validatorsOf));
        return sets.every((s) => s.validators.some((v) => v.address === node.address));
      },
      4 * SPAN * (BLOCK_MS / 1000) * 1000 + 30_000,
    );
    // 5 x 50,000: a quorum needs 4. With v1 stopped, the chain goes on only with the new vote.
    await d.node("v1").stop();
    const h0 = await head(node);
    await waitFor("4 blocks without v1", async () => (await head(d.validators[1]!)) >= h0 + 4, 60_000);
    await d.node("v1").start();
    await d.node("v1").waitReady(60_000);
  }, 240_000);

  it("L1 down for longer than a span: L2 keeps making blocks, the deposit made meanwhile arrives after", async () => {
    const to = freshAddress();
    const amount = 3n * TOKEN;
    await d.l1!.down();
    const h0 = await head(d.validators[1]!);
    await d.l1!.deposit(to, amount); // straight to EDR: only the nodes' endpoint is down
    await sleep((SPAN + 2) * BLOCK_MS);
    const h1 = await head(d.validators[1]!);
    expect(h1 - h0).toBeGreaterThanOrEqual(SPAN);
    expect(await balance(d.validators[1]!, to)).toBe(0n);
    const st = await rpcCall<{ l1?: { reachable: boolean; head?: number; lagBlocks?: number } }>(
      d.validators[1]!.rpcUrl,
      "dseq_syncStatus",
      [],
      2000,
    );
    expect(st.l1?.reachable).toBe(false);
    await d.l1!.up();
    await waitFor(
      "the deposit credited after L1 returned",
      async () => (await balance(d.validators[1]!, to)) === amount,
      90_000,
    );
    log.info("L1 outage survived", { blocksDuringOutage: h1 - h0 });
  }, 240_000);

  it("a node restarted mid-span rebuilds the same set, and credits no deposit twice", async () => {
    const v2 = d.node("v2");
    await v2.restart();
    await v2.waitReady(60_000);
    const [a, b] = await Promise.all([validatorsOf(v2), validatorsOf(d.node("v3"))]);
    const key = (s: Validators) => JSON.stringify(s.validators.map((v) => [v.address, v.power]));
    await waitFor(
      "v2 and v3 at the same next height",
      async () => {
        const [x, y] = await Promise.all([validatorsOf(v2), validatorsOf(d.node("v3"))]);
        return x.height === y.height && key(x) === key(y);
      },
      30_000,
    );
    expect(a.validators.some((v) => v.address === joined.address)).toBe(true);
    expect(b.validators.some((v) => v.address === joined.address)).toBe(true);
    // The restarted node's listener reads L1 again from its cursor: nothing is credited again.
    const h = await head(v2);
    await waitFor("v2 makes 3 more blocks", async () => (await head(v2)) >= h + 3, 30_000);
    const { to, amount } = firstDeposit as { to: Hex; amount: bigint };
    expect(await balance(v2, to)).toBe(amount);
    expect(await withdrawalsTo(v2, to, await head(v2))).toHaveLength(1);
  }, 120_000);

  it("a validator that unlocks leaves at the next span", async () => {
    await d.unlockValidator(joined.name);
    await waitFor(
      "the unlocked validator out of every set",
      async () => {
        const sets = await Promise.all(d.validators.filter((n) => n.state === "running").map(validatorsOf));
        return sets.every((s) => !s.validators.some((v) => v.address === joined.address));
      },
      4 * SPAN * (BLOCK_MS / 1000) * 1000 + 30_000,
    );
  }, 240_000);
});
