// e2e across L1 and L2: a validator locks more on L1 (LockingPool.relock) and its voting power
// changes at the next span boundary on every node, not before; the reward per block follows the
// larger total stake. Real `dseq start` processes, a real dev L1 (Hardhat 3 EDR, 1 s blocks,
// confirmations 2). afterAll stops every process and removes the temp dir.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The top-level test folder has no workspace links of its own: packages by their entry points.
import { createLogger } from "../packages/common/src/index.ts";
import { type Devnet, type DevnetNode, rpcCall, startDevnet } from "../packages/devnet/src/index.ts";
import { head, waitFor } from "./l1Helpers.ts";

const log = createLogger({ base: { test: "l1-stake-e2e" } });
const BLOCK_MS = 2000;
const SPAN = 8;
const TOKEN = 10n ** 18n;
const GENESIS_LOCK = 50_000n;
const MORE = 30_000n;

type Validators = {
  height: number;
  totalPower: string;
  validators: { id: string; address: string; power: string }[];
};
const validatorsOf = (n: DevnetNode) => rpcCall<Validators>(n.rpcUrl, "dseq_validators", [], 2000);
type Span = { index: number; startHeight: number; endHeight: number; rewardPerBlock: string };
const spanOf = (n: DevnetNode) => rpcCall<Span>(n.rpcUrl, "dseq_span", [], 2000);
const powerOf = (s: Validators, address: string): bigint =>
  BigInt(s.validators.find((v) => v.address === address)?.power ?? "0");

describe("L1 and L2 end to end: a stake increase on L1", () => {
  let root: string;
  let d: Devnet;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "l1-stake-e2e-"));
    d = await startDevnet({
      dataDir: join(root, "net"),
      validators: 4,
      followers: 0,
      blockTimeMs: BLOCK_MS,
      spanLength: SPAN,
      reelectAfterMisses: 3,
      loadAccounts: 1,
      readyTimeoutMs: 120_000,
      l1: { blockTimeSeconds: 1, confirmations: 2, pollIntervalMs: 300 },
      logger: log,
    });
    await waitFor(
      "every node at height 2",
      async () => (await Promise.all(d.validators.map(head))).every((h) => h >= 2),
      150_000,
    );
  }, 300_000);

  afterAll(async () => {
    await d?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it("a validator that locks more gets more voting power at the next span, on every node, and the reward per block grows", async () => {
    const v1 = d.node("v1");
    const l1 = d.l1!;
    const id = await l1.idOf(v1.address as `0x${string}`);
    expect(id).toBeGreaterThan(0);
    const before = await validatorsOf(v1);
    expect(powerOf(before, v1.address)).toBe(GENESIS_LOCK);
    const totalBefore = BigInt(before.totalPower);
    const rewardBefore = BigInt((await spanOf(v1)).rewardPerBlock);

    await l1.relock(id, MORE * TOKEN);
    expect((await l1.sequencer(id)).locked).toBe((GENESIS_LOCK + MORE) * TOKEN);
    const relockedAt = await head(d.node("v2"));

    // Watch v2 height by height: the first next-height whose set gives v1 the new power must be
    // the first height of a span (the set only changes at span boundaries), and no later than
    // two spans after the relock (confirmations + inclusion + the boundary).
    const seen = new Map<number, bigint>();
    const changedAt = await waitFor(
      "v1's larger power in v2's set",
      async () => {
        const s = await validatorsOf(d.node("v2"));
        seen.set(s.height, powerOf(s, v1.address));
        return powerOf(s, v1.address) === GENESIS_LOCK + MORE ? s.height : undefined;
      },
      4 * SPAN * BLOCK_MS + 30_000,
    );
    log.info("power changed", { relockedAt, changedAt });
    expect((changedAt - 1) % SPAN, `set changed at height ${changedAt}, not a span start`).toBe(0);
    expect(changedAt).toBeGreaterThan(relockedAt);
    // Every height seen before the change still had the old power.
    for (const [h, p] of seen) if (h < changedAt) expect(p, `height ${h}`).toBe(GENESIS_LOCK);

    // Every node agrees on the new set, and the total grew by exactly the added tokens.
    await waitFor(
      "every node on the new set",
      async () => {
        const sets = await Promise.all(d.validators.map(validatorsOf));
        return sets.every((s) => s.height >= changedAt && powerOf(s, v1.address) === GENESIS_LOCK + MORE);
      },
      30_000,
    );
    const after = await validatorsOf(d.node("v3"));
    expect(BigInt(after.totalPower)).toBe(totalBefore + MORE);
    for (const n of d.validators.filter((n) => n !== v1))
      expect(powerOf(after, n.address)).toBe(GENESIS_LOCK);

    // Rewards follow the stake: reward per block is total stake x rate (ADR 0124), so it grows by
    // the same factor (the observed block rate may move it by a few percent).
    const rewardAfter = BigInt((await spanOf(d.node("v3"))).rewardPerBlock);
    const expected = (rewardBefore * (totalBefore + MORE)) / totalBefore;
    expect(rewardAfter).toBeGreaterThan(rewardBefore);
    const off = Number(rewardAfter > expected ? rewardAfter - expected : expected - rewardAfter);
    expect(off / Number(expected)).toBeLessThan(0.1);
  }, 240_000);
});
