// Reward checkpoints on L1 (issue #24). Part 1, on EDR with the real contracts (a trusted-dealer
// FROST key stands in for the group: what is under test is the node's submitter and the pool):
// the node's rewardsDigest is the pool's, a checkpoint cut by a real RewardLedger lands exactly
// once (a restart resumes the transaction in flight instead of signing again, a second submitter
// that lost the race sends nothing), and a sequencer withdraws exactly what was checkpointed.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesToHex, type Hex, hexToBytes } from "../packages/common/src/index.ts";
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
    over: { sign?: (digest: Hex) => Promise<Hex>; turn?: () => boolean } = {},
  ) =>
    new RewardsSubmitter(
      {
        rpcUrl: l1.rpcUrl,
        l1ChainId: l1.chainId,
        pool: d.lockingPool,
        privateKey: l1.accounts[name === "a" ? 3 : 4]!.privateKey,
        stateDir: join(dir, name),
        confirmations: 3,
        resubmitAfterMs: 60_000,
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
