// Reward checkpoints on L1 (issue #24). Part 1, on EDR with the real contracts (a trusted-dealer
// FROST key stands in for the group: what is under test is the node's submitter and the pool):
// the node's rewardsDigest is the pool's, a checkpoint cut by a real RewardLedger lands exactly
// once (a restart resumes the transaction in flight instead of signing again, a second submitter
// that lost the race sends nothing), and a sequencer withdraws exactly what was checkpointed.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultFeeOptions, type FeeOptions } from "../packages/batch-submitter/src/index.ts";
import { bytesToHex, createLogger, type Hex, hexToBytes } from "../packages/common/src/index.ts";
import { type Devnet, getBlock, rpcCall, startDevnet } from "../packages/devnet/src/index.ts";
import {
  type DevL1,
  DseqTokenArtifact,
  deployL1Contracts,
  type L1Deployment,
  LockingPoolArtifact,
  rpc,
  startDevL1,
} from "../packages/l1-contracts/src/index.ts";
// viem clients from l1-contracts' test helper (the top-level test folder has no viem of its own).
import { clients, type TestClients } from "../packages/l1-contracts/test/helpers.ts";
import { frost, l1CompactSignatureBytes, toL1Signature } from "../packages/mpc-tss/src/index.ts";
import { rewardsDigest, toL1Checkpoint } from "../packages/node/src/tss/rewardsCheckpoint.ts";
import {
  RewardsSubmitter,
  type RewardsTick,
  readRewardsTip,
} from "../packages/node/src/tss/rewardsSubmitter.ts";
import { type RewardCheckpoint, RewardLedger } from "../packages/sequencer-rotation/src/index.ts";

import { waitFor } from "./l1Helpers.ts";

const log = createLogger({ level: "warn", base: { test: "rewards-e2e" } });
const MAX_UINT256 = (1n << 256n) - 1n;

/** A 3-of-4 FROST group from a trusted dealer, signing in the node's L1 form (rx || ry || z). */
function dealerGroup() {
  const ids = [1, 2, 3, 4].map((i) => frost.Identifier.fromNumber(i));
  const deal = frost.trustedDealer({ min: 3, max: 4 }, ids);
  const groupKey = bytesToHex(deal.public.commitments[0]!);
  let signed = 0;
  return {
    groupKey,
    signed: () => signed,
    async sign(digest: Hex): Promise<Hex> {
      const m = hexToBytes(digest);
      const signers = ids.slice(0, 3);
      const rounds = signers.map((id) => frost.commit(deal.secretShares[id]!));
      const commitments = rounds.map((r) => r.commitments);
      const shares: Record<string, Uint8Array> = {};
      signers.forEach((id, i) => {
        shares[id] = frost.signShare(deal.secretShares[id]!, deal.public, rounds[i]!.nonces, commitments, m);
      });
      signed++;
      const sig = frost.aggregate(deal.public, commitments, m, shares);
      return bytesToHex(l1CompactSignatureBytes(toL1Signature(sig, groupKey)));
    },
  };
}

describe("reward checkpoints: the node's submitter against the real LockingPool (EDR)", () => {
  let l1: DevL1;
  let d: L1Deployment;
  let dir: string;
  let c: TestClients[];
  const client = () => c[0]!.publicClient;
  const checkpoints: RewardCheckpoint[] = [];
  const group = dealerGroup();
  const owners = [1, 2];
  /** Reward recipients of sequencers 1 and 2 (dev accounts 7 and 8). */
  const recipient = (k: number): Hex => c[7 + k]!.account.address;
  const send = async (i: number, address: Hex, abi: unknown, functionName: string, args: unknown[]) => {
    const hash = await c[i]!.wallet.writeContract({ address, abi, functionName, args } as never);
    return client().waitForTransactionReceipt({ hash });
  };
  const tokenBalance = (a: Hex) =>
    client().readContract({
      address: d.token,
      abi: DseqTokenArtifact.abi,
      functionName: "balanceOf",
      args: [a],
    }) as Promise<bigint>;
  const reward = async (id: number) =>
    (
      (await client().readContract({
        address: d.lockingPool,
        abi: LockingPoolArtifact.abi,
        functionName: "getSequencer",
        args: [BigInt(id)],
      })) as { reward: bigint }
    ).reward;
  const mine = (n: number) => rpc(l1.rpcUrl, "hardhat_mine", [`0x${n.toString(16)}`]);
  const submitter = (
    name: string,
    over: {
      sign?: (digest: Hex) => Promise<Hex>;
      turn?: () => boolean;
      resubmitAfterMs?: number;
      fees?: FeeOptions;
    } = {},
  ) =>
    new RewardsSubmitter(
      {
        rpcUrl: l1.rpcUrl,
        l1ChainId: l1.chainId,
        pool: d.lockingPool,
        privateKey: l1.accounts[name === "a" ? 3 : 4]!.privateKey,
        stateDir: join(dir, name),
        confirmations: 3,
        resubmitAfterMs: over.resubmitAfterMs ?? 60_000,
        ...(over.fees ? { fees: over.fees } : {}),
      },
      {
        checkpoint: async (i) => checkpoints[i],
        sign: over.sign ?? ((digest) => group.sign(digest)),
        turn: over.turn ?? (() => true),
      },
    );

  beforeAll(async () => {
    l1 = await startDevL1({ accounts: 10 });
    c = l1.accounts.map((_, i) => clients(l1, i));
    dir = mkdtempSync(join(tmpdir(), "rewards-edr-"));
    d = await deployL1Contracts({
      rpcUrl: l1.rpcUrl,
      deployerKey: l1.accounts[0]!.privateKey,
      params: {
        l2ChainId: 901n,
        groupKey: group.groupKey,
        whitelist: owners.map((i) => l1.accounts[i]!.address),
        tokenGrants: owners.map((i) => ({ to: l1.accounts[i]!.address, amount: 50_000n * 10n ** 18n })),
      },
    });
    // Two sequencers (ids 1 and 2), rewards paid to fresh recipient addresses.
    for (const [k, i] of owners.entries()) {
      const signer = c[5 + k]!.account; // a key with a public key on the curve
      await send(i, d.token, DseqTokenArtifact.abi, "approve", [d.lockingPool, MAX_UINT256]);
      const r = await send(i, d.lockingPool, LockingPoolArtifact.abi, "lockWithRewardRecipient", [
        signer.address,
        recipient(k),
        30_000n * 10n ** 18n,
        `0x${signer.publicKey.slice(4)}`,
      ]);
      expect(r.status).toBe("success");
    }
    // Checkpoints as the node's ledger cuts them: blocks 1..10 (both), 11..20 (only id 2).
    const ledger = new RewardLedger();
    for (let h = 1; h <= 10; h++)
      ledger.credit(
        h % 2 === 0 ? 2 : 1,
        recipient(h % 2 === 0 ? 1 : 0).toLowerCase() as Hex,
        1_000n + BigInt(h),
      );
    checkpoints.push(ledger.checkpoint(10));
    for (let h = 11; h <= 20; h++) ledger.credit(2, recipient(1).toLowerCase() as Hex, 5_000n);
    checkpoints.push(ledger.checkpoint(20));
    for (let h = 21; h <= 30; h++) ledger.credit(2, recipient(1).toLowerCase() as Hex, 7_000n);
    checkpoints.push(ledger.checkpoint(30));
  }, 120_000);

  afterAll(async () => {
    await l1?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the node's rewardsDigest is the pool's", async () => {
    const cp = toL1Checkpoint(checkpoints[0]!);
    const onChain = await client().readContract({
      address: d.lockingPool,
      abi: LockingPoolArtifact.abi,
      functionName: "rewardsDigest",
      args: [cp.checkpointId, cp.fromBlock, cp.toBlock, cp.seqIds, cp.amounts],
    });
    expect(rewardsDigest({ l1ChainId: l1.chainId, pool: d.lockingPool }, cp)).toBe(onChain);
  });

  it("checkpoint 0 lands once; a restart mid-confirmation resumes it without signing again", async () => {
    const a = submitter("a");
    const sent = await a.tick();
    expect(sent).toMatchObject({ action: "sent", checkpointId: 0n });
    expect(group.signed()).toBe(1);
    expect(await readRewardsTip(client(), d.lockingPool)).toEqual({
      nextCheckpointId: 1n,
      lastRewardBlock: 10n,
    });
    // Killed here: a new process on the same state dir follows the same transaction.
    const again = submitter("a");
    expect(again.inFlight).toBe(0n);
    expect(await again.tick()).toEqual({ action: "waiting", checkpointId: 0n });
    await mine(3);
    expect(await again.tick()).toEqual({ action: "posted", checkpointId: 0n, byOther: false });
    expect(group.signed()).toBe(1);
    expect(await reward(1)).toBe(checkpoints[0]!.entries.find((e) => e.id === 1)!.amount);
    expect(await reward(2)).toBe(checkpoints[0]!.entries.find((e) => e.id === 2)!.amount);
    // Nothing more to do until the chain cuts checkpoint 2.
    const ticks: RewardsTick[] = [];
    const b = submitter("b", {
      sign: async () => Promise.reject(new Error("must not sign")),
      turn: () => false,
    });
    ticks.push(await b.tick());
    expect(ticks[0]).toMatchObject({ action: "idle" });
  });

  it("two submitters race for checkpoint 1: one transaction lands, the other sends nothing", async () => {
    const a = submitter("a");
    let landed: RewardsTick | undefined;
    const b = submitter("b", {
      // While b's group signs, a lands the checkpoint.
      sign: async (digest) => {
        landed = await a.tick();
        return group.sign(digest);
      },
    });
    expect(await b.tick()).toEqual({ action: "idle", why: "landed while signing" });
    expect(landed).toMatchObject({ action: "sent", checkpointId: 1n });
    expect(b.inFlight).toBeUndefined();
    await mine(3);
    expect(await a.tick()).toEqual({ action: "posted", checkpointId: 1n, byOther: false });
    expect(await readRewardsTip(client(), d.lockingPool)).toEqual({
      nextCheckpointId: 2n,
      lastRewardBlock: 20n,
    });
    const events = await client().getContractEvents({
      address: d.lockingPool,
      abi: LockingPoolArtifact.abi,
      eventName: "RewardsSubmitted",
      fromBlock: 0n,
    });
    expect(events.map((e) => (e.args as { checkpointId: bigint }).checkpointId)).toEqual([0n, 1n]);
  });

  it("an unmined checkpoint transaction is replaced: same nonce and gas, fees >= 1.15x and capped; the last one lands", async () => {
    await rpc(l1.rpcUrl, "evm_setAutomine", [false]);
    try {
      // Nothing is mined until the end, so the first offer is the estimate; the cap lets the
      // first bump (1.15x) through and holds the second (1.3225x) at 1.3x.
      const est = await client().estimateFeesPerGas();
      const cap = (est.maxFeePerGas * 13n) / 10n;
      const a = submitter("a", { resubmitAfterMs: 0, fees: { ...defaultFeeOptions, maxFeePerGasCap: cap } });
      const signedBefore = group.signed();
      const txs = [];
      for (const want of ["sent", "replaced", "replaced"]) {
        const t = await a.tick();
        expect(t.action).toBe(want);
        if (!("hash" in t)) throw new Error(`no transaction in ${JSON.stringify(t)}`);
        txs.push(await client().getTransaction({ hash: t.hash }));
      }
      const [tx1, tx2, tx3] = txs as [(typeof txs)[0], (typeof txs)[0], (typeof txs)[0]];
      expect(group.signed()).toBe(signedBefore + 1); // signed once, sent three times
      expect(tx1.maxFeePerGas).toBe(est.maxFeePerGas);
      for (const tx of [tx2, tx3]) {
        expect(tx.nonce).toBe(tx1.nonce);
        // Estimated once on "latest": on the pending block, after the first offer, it reverts.
        expect(tx.gas).toBe(tx1.gas);
      }
      expect(tx2.maxFeePerGas! * 100n).toBeGreaterThanOrEqual(tx1.maxFeePerGas! * 115n);
      expect(tx2.maxPriorityFeePerGas! * 100n).toBeGreaterThanOrEqual(tx1.maxPriorityFeePerGas! * 115n);
      expect(tx2.maxFeePerGas! * 115n).toBeGreaterThan(cap * 100n);
      expect(tx3.maxFeePerGas).toBe(cap);
      const saved = JSON.parse(readFileSync(join(dir, "a", "submitter.json"), "utf8")).inFlight;
      expect(saved).toMatchObject({
        hashes: [tx1.hash, tx2.hash, tx3.hash],
        fees: { maxFeePerGas: cap.toString(), maxPriorityFeePerGas: tx3.maxPriorityFeePerGas!.toString() },
        gas: tx1.gas.toString(),
      });
      await rpc(l1.rpcUrl, "evm_mine", []);
      expect((await client().getTransactionReceipt({ hash: tx3.hash })).status).toBe("success");
      for (const tx of [tx1, tx2])
        await expect(client().getTransactionReceipt({ hash: tx.hash })).rejects.toThrow();
    } finally {
      await rpc(l1.rpcUrl, "evm_setAutomine", [true]);
    }
    await mine(3);
    expect(await submitter("a").tick()).toEqual({ action: "posted", checkpointId: 2n, byOther: false });
    expect(await readRewardsTip(client(), d.lockingPool)).toEqual({
      nextCheckpointId: 3n,
      lastRewardBlock: 30n,
    });
  });

  it("a sequencer withdraws exactly its checkpointed reward; a second withdraw pays nothing", async () => {
    const due = checkpoints
      .flatMap((c) => c.entries)
      .filter((e) => e.id === 2)
      .reduce((s, e) => s + e.amount, 0n);
    expect(await reward(2)).toBe(due);
    const before = await tokenBalance(recipient(1));
    const r = await send(owners[1]!, d.lockingPool, LockingPoolArtifact.abi, "withdrawRewards", [2n]);
    expect(r.status).toBe("success");
    expect((await tokenBalance(recipient(1))) - before).toBe(due);
    expect(await reward(2)).toBe(0n);
    await expect(
      client().simulateContract({
        account: l1.accounts[owners[1]!]!.address,
        address: d.lockingPool,
        abi: LockingPoolArtifact.abi,
        functionName: "withdrawRewards",
        args: [2n],
      }),
    ).rejects.toThrow(/NoRewards/);
    expect((await tokenBalance(recipient(1))) - before).toBe(due);
  });
});

// Part 2, the running network: real `dseq start` processes on a devnet with a real dev L1 and the
// genesis DKG's group key (as test/batches.test.ts). The chain spec cuts a checkpoint every 10
// blocks; every validator posts with its own L1 account (`rewards` section). Checkpoints land in
// order, each once, with the amounts the L2 blocks earned (rewardPerBlock per block, to the
// block's proposer); a sequencer's owner withdraws exactly what was checkpointed for it, and a
// second withdraw in the same state pays nothing.
const INTERVAL = 10;

describe("reward checkpoints on a running devnet: signed by the group, posted once, withdrawn", () => {
  let root: string;
  let d: Devnet;
  let c: (i: number) => TestClients;
  const pool = () => d.l1!.deployment.lockingPool as Hex;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "rewards-e2e-"));
    // The devnet's own reward sections (its default with batches): each validator posts from
    // its second dev L1 account; only the checkpoint interval is shortened.
    d = await startDevnet({
      dataDir: join(root, "net"),
      validators: 4,
      followers: 0,
      blockTimeMs: 1000,
      spanLength: 1000,
      readyTimeoutMs: 120_000,
      l1: {
        blockTimeSeconds: 1,
        confirmations: 2,
        pollIntervalMs: 300,
        batches: { maxBlocks: 20, maxAgeSeconds: 10, confirmations: 2, takeoverMs: 5000, pollMs: 1000 },
        rewards: { checkpointIntervalBlocks: INTERVAL, confirmations: 2, pollMs: 500, takeoverMs: 5000 },
      },
      logger: log,
    });
    const l1 = { ...d.l1!, rpcUrl: d.l1!.directUrl } as unknown as DevL1;
    c = (i) => clients(l1, i);
  }, 240_000);

  afterAll(async () => {
    await d?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  const read = <T>(functionName: string, args: unknown[] = [], blockNumber?: bigint) =>
    c(0).publicClient.readContract({
      address: pool(),
      abi: LockingPoolArtifact.abi,
      functionName,
      args,
      ...(blockNumber !== undefined ? { blockNumber } : {}),
    } as never) as Promise<T>;
  const submitted = async () =>
    (
      await c(0).publicClient.getContractEvents({
        address: pool(),
        abi: LockingPoolArtifact.abi,
        eventName: "RewardsSubmitted",
        fromBlock: 0n,
      })
    ).map((e) => ({
      blockNumber: e.blockNumber,
      ...(e.args as {
        checkpointId: bigint;
        fromBlock: bigint;
        toBlock: bigint;
        sequencerIds: bigint[];
        amounts: bigint[];
      }),
    }));

  it("checkpoints land in order, once each, with what the L2 blocks earned", async () => {
    await waitFor(
      "2 reward checkpoints on L1",
      async () => (await read<bigint>("nextCheckpointId")) >= 2n,
      120_000,
      500,
    );
    const events = await submitted();
    expect(events.map((e) => e.checkpointId)).toEqual(events.map((_, i) => BigInt(i)));
    const v = d.validators[0]!;
    const vals = await rpcCall<{ validators: { id: number; rewardRecipient: string }[] }>(
      v.rpcUrl,
      "dseq_validators",
      [],
      2000,
    );
    const idOf = new Map(vals.validators.map((x) => [x.rewardRecipient.toLowerCase(), BigInt(x.id)]));
    const span = await rpcCall<{ rewardPerBlock: string }>(v.rpcUrl, "dseq_span", [], 2000);
    const perBlock = BigInt(span.rewardPerBlock);
    expect(perBlock).toBeGreaterThan(0n);
    for (const [i, e] of events.entries()) {
      expect(e.fromBlock).toBe(BigInt(i * INTERVAL + 1));
      expect(e.toBlock).toBe(BigInt((i + 1) * INTERVAL));
      const want = new Map<bigint, bigint>();
      for (let n = e.fromBlock; n <= e.toBlock; n++) {
        const b = (await getBlock(v.rpcUrl, Number(n))) as unknown as { miner: string };
        const id = idOf.get(b.miner.toLowerCase())!;
        want.set(id, (want.get(id) ?? 0n) + perBlock);
      }
      const ids = [...want.keys()].sort((a, b) => (a < b ? -1 : 1));
      expect(e.sequencerIds).toEqual(ids);
      expect(e.amounts).toEqual(ids.map((id) => want.get(id)));
    }
    log.info("reward checkpoints checked", { checkpoints: events.length, perBlock: perBlock.toString() });
  }, 150_000);

  it("a node killed (SIGKILL) that lost its checkpoint files refills them from its chain and posting goes on", async () => {
    const n = d.node("v2");
    const dir = join(n.dataDir, "rewards", "checkpoints");
    const before = new Map(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), "utf8")]));
    expect(before.size).toBeGreaterThanOrEqual(2);
    await n.kill();
    rmSync(dir, { recursive: true, force: true });
    const next = await read<bigint>("nextCheckpointId");
    await n.start();
    await n.waitReady(60_000);
    await waitFor(
      "v2's checkpoints refilled",
      async () => existsSync(dir) && before.size <= readdirSync(dir).length,
      30_000,
      200,
    );
    for (const [f, text] of before) expect(readFileSync(join(dir, f), "utf8")).toBe(text);
    await waitFor(
      "another checkpoint on L1",
      async () => (await read<bigint>("nextCheckpointId")) > next,
      60_000,
      500,
    );
    const events = await submitted();
    expect(events.map((e) => e.checkpointId)).toEqual(events.map((_, i) => BigInt(i)));
  }, 150_000);

  it("a sequencer withdraws exactly its checkpointed reward; a second withdraw pays nothing", async () => {
    // The span sequencer proposes (nearly) every block: it holds the reward.
    const id = (await submitted())[0]!.sequencerIds[0]!;
    const s = await read<{ owner: Hex; rewardRecipient: Hex }>("getSequencer", [id]);
    const ownerIndex = d.l1!.accounts.findIndex((a) => a.address.toLowerCase() === s.owner.toLowerCase());
    expect(ownerIndex).toBeGreaterThan(0);
    const owner = c(ownerIndex);
    const hash = await owner.wallet.writeContract({
      address: pool(),
      abi: LockingPoolArtifact.abi,
      functionName: "withdrawRewards",
      args: [id],
    } as never);
    const r = await owner.publicClient.waitForTransactionReceipt({ hash });
    expect(r.status).toBe("success");
    const due = (await submitted())
      .filter((e) => e.blockNumber <= r.blockNumber)
      .reduce(
        (sum, e) => sum + e.amounts.reduce((a, x, k) => (e.sequencerIds[k] === id ? a + x : a), 0n),
        0n,
      );
    expect(due).toBeGreaterThan(0n);
    const balanceAt = (blockNumber: bigint) =>
      owner.publicClient.readContract({
        address: d.l1!.deployment.token,
        abi: DseqTokenArtifact.abi,
        functionName: "balanceOf",
        args: [s.rewardRecipient],
        blockNumber,
      } as never) as Promise<bigint>;
    expect((await balanceAt(r.blockNumber)) - (await balanceAt(r.blockNumber - 1n))).toBe(due);
    // In the state right after it, a second withdraw reverts: nothing left to pay.
    expect((await read<{ reward: bigint }>("getSequencer", [id], r.blockNumber)).reward).toBe(0n);
    await expect(
      owner.publicClient.simulateContract({
        account: owner.account,
        address: pool(),
        abi: LockingPoolArtifact.abi,
        functionName: "withdrawRewards",
        args: [id],
        blockNumber: r.blockNumber,
      } as never),
    ).rejects.toThrow(/NoRewards/);
    // The network's own counters: checkpoints posted by the nodes.
    const metrics = (
      await Promise.all(d.validators.map(async (n) => (await fetch(`${n.adminUrl}/metrics`)).text()))
    ).join("\n");
    expect(metrics).toMatch(/dseq_rewards_checkpoints_posted_total\{by="self"\} [1-9]/);
  }, 60_000);
});
