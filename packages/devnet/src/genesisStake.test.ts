import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex } from "@dseq/common";
import { readKeyFile } from "@dseq/node";
import { describe, expect, it } from "vitest";
import {
  batchKindOf,
  L1_BATCH_KEYSTORE,
  L1_REWARDS_KEYSTORE,
  l1MiningOf,
  rewardsOf,
  writeRewardsSection,
} from "./genesisStake.ts";
import { buildChainSpec, DEVNET_PASSWORD } from "./network.ts";

describe("devnet batch kinds and L1 mining (ADR 0186)", () => {
  it("alternate: validators 1, 3, ... post blobs, 2, 4, ... calldata; default calldata", () => {
    expect([0, 1, 2, 3].map((i) => batchKindOf("alternate", i))).toEqual([
      "blobs",
      "calldata",
      "blobs",
      "calldata",
    ]);
    expect([0, 1].map((i) => batchKindOf(undefined, i))).toEqual(["calldata", "calldata"]);
    expect([0, 1].map((i) => batchKindOf("blobs", i))).toEqual(["blobs", "blobs"]);
  });

  it("blob batches default the dev L1 to the ticker; calldata or no batches keep interval mining", () => {
    expect(l1MiningOf({})).toBe("interval");
    expect(l1MiningOf({ batches: false })).toBe("interval");
    expect(l1MiningOf({ batches: { kind: "calldata" } })).toBe("interval");
    expect(l1MiningOf({ batches: { kind: "blobs" } })).toBe("ticker");
    expect(l1MiningOf({ batches: { kind: "alternate" } })).toBe("ticker");
    expect(l1MiningOf({ mining: "ticker" })).toBe("ticker");
    expect(l1MiningOf({ mining: "interval", batches: { kind: "blobs" } })).toBe("interval");
  });
});

describe("devnet reward checkpoints to L1 (ADR 0158)", () => {
  it("are on with batches unless turned off; off without L1 or batches", () => {
    expect(rewardsOf(undefined)).toBeUndefined();
    expect(rewardsOf({ batches: false })).toBeUndefined();
    expect(rewardsOf({ rewards: false })).toBeUndefined();
    expect(rewardsOf({})).toEqual({});
    expect(rewardsOf({ rewards: { checkpointIntervalBlocks: 10 } })).toEqual({
      checkpointIntervalBlocks: 10,
    });
  });

  it("a validator's rewards section names its own keystore, which holds the account's key; none without an account", async () => {
    const dir = mkdtempSync(join(tmpdir(), "devnet-rewards-"));
    try {
      const key = `0x${"4b".repeat(32)}` as const;
      const section = await writeRewardsSection(dir, { privateKey: key }, { confirmations: 3 });
      expect(section).toEqual({
        l1Keystore: `./data/${L1_REWARDS_KEYSTORE}`,
        confirmations: 3,
        pollMs: 1000,
        takeoverMs: 8000,
      });
      expect(L1_REWARDS_KEYSTORE).not.toBe(L1_BATCH_KEYSTORE);
      expect(bytesToHex(await readKeyFile(join(dir, L1_REWARDS_KEYSTORE), DEVNET_PASSWORD))).toBe(key);
      expect(await writeRewardsSection(dir, undefined, {})).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the chain spec carries the checkpoint interval only when asked", () => {
    const v = [{ address: `0x${"11".repeat(20)}` as const, publicKey: `0x04${"22".repeat(64)}` as const }];
    const base = { chainId: 1, blockTimeMs: 2000, spanLength: 30, reelectAfterMisses: 3 };
    expect(buildChainSpec(base, v, [], [], 0).rotation).not.toHaveProperty("checkpointIntervalBlocks");
    expect(buildChainSpec({ ...base, checkpointIntervalBlocks: 150 }, v, [], [], 0).rotation).toMatchObject({
      checkpointIntervalBlocks: 150,
    });
  });
});
