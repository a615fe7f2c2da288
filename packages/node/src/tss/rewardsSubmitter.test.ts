import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultFeeOptions } from "@dseq/batch-submitter";
import { bytesToHex, createNoopLogger, type Hex, hexToBytes } from "@dseq/common";
import {
  type DevL1,
  DseqTokenArtifact,
  deployL1Contracts,
  type L1Deployment,
  LockingPoolArtifact,
  rpc,
  startDevL1,
} from "@dseq/l1-contracts";
import { frost, l1CompactSignatureBytes, type SignContext, toL1Signature } from "@dseq/mpc-tss";
import { RewardLedger } from "@dseq/sequencer-rotation";
import { type Abi, maxUint256, type PublicClient, parseEther, type TransactionReceipt } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { l1PosterClients } from "./l1Poster.ts";
import { rewardsApprove } from "./rewardsApprove.ts";
import { checkpointToJson, type L1RewardCheckpoint, REWARDS_CONTEXT_KIND } from "./rewardsCheckpoint.ts";
import { RewardCheckpointStore } from "./rewardsStore.ts";
import { RewardsSubmitter, type RewardsSubmitterOptions, readRewardsTip } from "./rewardsSubmitter.ts";

const E18 = 10n ** 18n;
const MIN_LOCK = 20_000n * E18;
// Dev L1 accounts: 0 deploys and pays rewards, 1 and 2 post checkpoints, 3 owns sequencer 1 (its
// own reward recipient), 4 owns sequencer 2, whose rewards go to 5.
const POSTER = 1;
const OTHER_POSTER = 2;
const OWNER1 = 3;
const OWNER2 = 4;
const RECIPIENT2 = 5;

type SequencerView = { owner: Hex; rewardRecipient: Hex; amount: bigint; reward: bigint };

/**
 * RewardsSubmitter against a real LockingPool on EDR: checkpoints cut by a real RewardLedger and
 * kept in a RewardCheckpointStore, signed by a dealer-made FROST group (each request first passes
 * the signers' own policy, rewardsApprove), posted once each, resumed across a restart with the
 * transaction pending, replaced with bumped and capped fees, and withdrawn by the sequencers.
 * The tests run in order on one pool: each posts the next checkpoint.
 */
describe("reward checkpoint poster (RewardsSubmitter, LockingPool on EDR)", () => {
  let l1: DevL1;
  let d: L1Deployment;
  let client: PublicClient;
  let root: string;
  let store: RewardCheckpointStore;
  const ledger = new RewardLedger();
  const group = dealerGroup();
  const signed: bigint[] = [];
  const refusals: string[] = [];
  const posted: [bigint, boolean][] = [];

  const address = (i: number) => l1.accounts[i]!.address;
  const pool = <T>(functionName: string, args: readonly unknown[] = []) =>
    client.readContract({
      address: d.lockingPool,
      abi: LockingPoolArtifact.abi,
      functionName,
      args,
    } as never) as Promise<T>;
  const sequencer = (id: bigint) => pool<SequencerView>("getSequencer", [id]);
  const tokenBalance = (a: Hex) =>
    client.readContract({
      address: d.token,
      abi: DseqTokenArtifact.abi,
      functionName: "balanceOf",
      args: [a],
    }) as Promise<bigint>;
  const nonce = (i: number, blockTag: "latest" | "pending") =>
    client.getTransactionCount({ address: address(i), blockTag });
  const submittedIds = async () => {
    const logs = await client.getContractEvents({
      address: d.lockingPool,
      abi: LockingPoolArtifact.abi,
      eventName: "RewardsSubmitted",
      fromBlock: 0n,
    });
    return logs.map((l) => (l.args as { checkpointId: bigint }).checkpointId);
  };
  const savedInFlight = (dir: string) =>
    JSON.parse(readFileSync(join(root, dir, "submitter.json"), "utf8")).inFlight;

  /** Sends from dev account `i` and waits for a successful receipt. */
  async function send(
    i: number,
    to: Hex,
    abi: Abi,
    functionName: string,
    args: readonly unknown[],
  ): Promise<TransactionReceipt> {
    const { wallet } = l1PosterClients({ rpcUrl: l1.rpcUrl, l1ChainId: l1.chainId, privateKey: key(i) });
    const hash = await wallet.writeContract({
      account: wallet.account!,
      chain: wallet.chain,
      address: to,
      abi,
      functionName,
      args,
    } as never);
    const receipt = await client.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe("success");
    return receipt;
  }
  const key = (i: number) => l1.accounts[i]!.privateKey;

  /** The next checkpoint of the ledger, cut at `toHeight` and stored (as the commit path does). */
  function cut(toHeight: number, credits: [number, number, bigint][]): L1RewardCheckpoint {
    for (const [id, recipient, amount] of credits) ledger.credit(id, address(recipient), amount);
    const cp = ledger.checkpoint(toHeight);
    store.put(cp);
    return {
      checkpointId: BigInt(cp.index),
      fromBlock: BigInt(cp.fromHeight),
      toBlock: BigInt(cp.toHeight),
      seqIds: cp.entries.map((e) => BigInt(e.id)),
      amounts: cp.entries.map((e) => e.amount),
    };
  }

  function poster(
    dir: string,
    o: Partial<RewardsSubmitterOptions> & { account?: number; turn?: boolean } = {},
  ): RewardsSubmitter {
    const { account = POSTER, turn = true, ...opts } = o;
    const approve = rewardsApprove({
      domain: { l1ChainId: l1.chainId, pool: d.lockingPool },
      checkpoint: async (i) => store.get(i),
      tip: () => readRewardsTip(client, d.lockingPool),
      onRefusal: (r) => refusals.push(r),
      logger: createNoopLogger(),
    });
    return new RewardsSubmitter(
      {
        rpcUrl: l1.rpcUrl,
        l1ChainId: l1.chainId,
        pool: d.lockingPool,
        privateKey: key(account),
        stateDir: join(root, dir),
        confirmations: 1,
        resubmitAfterMs: 60_000,
        ...opts,
      },
      {
        checkpoint: async (i) => store.get(i),
        // What a signer does before its share: rebuild the request from its own checkpoints and L1.
        async sign(digest, cp) {
          const context = { kind: REWARDS_CONTEXT_KIND, checkpoint: checkpointToJson(cp) };
          const ok = await approve(hexToBytes(digest), {
            sessionId: "0x01",
            context,
          } as unknown as SignContext);
          if (!ok) throw new Error(`signers refused checkpoint ${cp.checkpointId}: ${refusals.join(",")}`);
          signed.push(cp.checkpointId);
          return group.sign(digest);
        },
        turn: () => turn,
        onPosted: (cp, byOther) => posted.push([cp.checkpointId, byOther]),
      },
    );
  }

  beforeAll(async () => {
    [l1, root] = await Promise.all([startDevL1({ accounts: 6 }), mkdtemp(join(tmpdir(), "dseq-rewards-"))]);
    ({ client } = l1PosterClients({ rpcUrl: l1.rpcUrl, l1ChainId: l1.chainId, privateKey: key(0) }));
    store = RewardCheckpointStore.open(join(root, "checkpoints"));
    d = await deployL1Contracts({
      rpcUrl: l1.rpcUrl,
      deployerKey: key(0),
      params: {
        l2ChainId: 901n,
        groupKey: group.groupKey,
        whitelist: [address(OWNER1), address(OWNER2)],
        tokenGrants: [OWNER1, OWNER2].map((i) => ({ to: address(i), amount: MIN_LOCK })),
      },
    });
    for (const i of [OWNER1, OWNER2])
      await send(i, d.token, DseqTokenArtifact.abi, "approve", [d.lockingPool, maxUint256]);
    const s1 = newSigner();
    await send(OWNER1, d.lockingPool, LockingPoolArtifact.abi, "lockFor", [s1.address, MIN_LOCK, s1.pubkey]);
    const s2 = newSigner();
    await send(OWNER2, d.lockingPool, LockingPoolArtifact.abi, "lockWithRewardRecipient", [
      s2.address,
      address(RECIPIENT2),
      MIN_LOCK,
      s2.pubkey,
    ]);
    expect(await sequencer(1n)).toMatchObject({ owner: address(OWNER1), rewardRecipient: address(OWNER1) });
    expect(await sequencer(2n)).toMatchObject({
      owner: address(OWNER2),
      rewardRecipient: address(RECIPIENT2),
    });
  }, 60_000);

  afterEach(async () => {
    await rpc(l1.rpcUrl, "evm_setAutomine", [true]); // a failed test must not leave L1 stopped
  });

  afterAll(async () => {
    await l1?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("posts a checkpoint exactly once: sent, waiting for its confirmations, posted; the pool credits each sequencer", async () => {
    const a = poster("a", { confirmations: 2 });
    expect(await a.tick()).toEqual({ action: "idle", why: "checkpoint 0 not cut yet" });
    const cp = cut(100, [
      [1, OWNER1, parseEther("10")],
      [2, RECIPIENT2, parseEther("20")],
    ]);
    expect(await poster("b", { account: OTHER_POSTER, turn: false }).tick()).toEqual({
      action: "idle",
      why: "not this node's turn",
    });

    const sent = await a.tick();
    if (sent.action !== "sent") throw new Error(`expected sent, got ${JSON.stringify(sent)}`);
    expect(sent.checkpointId).toBe(0n);
    const receipt = await client.getTransactionReceipt({ hash: sent.hash });
    expect(receipt.status).toBe("success");
    // mined (automine), but one confirmation of two: not posted yet, nothing sent again
    expect(await a.tick()).toEqual({ action: "waiting", checkpointId: 0n });
    expect(a.inFlight).toBe(0n);
    await rpc(l1.rpcUrl, "evm_mine", []);
    expect(await a.tick()).toEqual({ action: "posted", checkpointId: 0n, byOther: false });
    expect(a.inFlight).toBeUndefined();
    expect(posted).toEqual([[0n, false]]);

    expect(await pool("nextCheckpointId")).toBe(1n);
    expect(await pool("lastRewardBlock")).toBe(cp.toBlock);
    expect((await sequencer(1n)).reward).toBe(parseEther("10"));
    expect((await sequencer(2n)).reward).toBe(parseEther("20"));

    // Exactly once: neither this poster nor another one with its turn sends anything more.
    expect(await a.tick()).toEqual({ action: "idle", why: "checkpoint 1 not cut yet" });
    expect(await poster("b", { account: OTHER_POSTER }).tick()).toEqual({
      action: "idle",
      why: "checkpoint 1 not cut yet",
    });
    expect(await submittedIds()).toEqual([0n]);
    expect(signed).toEqual([0n]);
    expect(await nonce(POSTER, "pending")).toBe(1);
    expect(await nonce(OTHER_POSTER, "pending")).toBe(0);
    expect(refusals).toEqual([]);
  });

  it("a restart with the transaction pending resumes it (no second send, no new nonce) and sees it land", async () => {
    const cp = cut(200, [[1, OWNER1, parseEther("5")]]);
    await rpc(l1.rpcUrl, "evm_setAutomine", [false]);
    const sent = await poster("a").tick();
    if (sent.action !== "sent") throw new Error(`expected sent, got ${JSON.stringify(sent)}`);
    const tx = await client.getTransaction({ hash: sent.hash });
    expect(tx.nonce).toBe(1);
    expect(await nonce(POSTER, "latest")).toBe(1);
    expect(await nonce(POSTER, "pending")).toBe(2);
    expect(await pool("nextCheckpointId")).toBe(1n);

    const restarted = poster("a"); // a new instance on the same state dir
    expect(restarted.inFlight).toBe(1n);
    expect(await restarted.tick()).toEqual({ action: "waiting", checkpointId: 1n });
    expect(await restarted.tick()).toEqual({ action: "waiting", checkpointId: 1n });
    expect(await nonce(POSTER, "pending")).toBe(2);
    expect(savedInFlight("a")).toMatchObject({ nonce: 1, hashes: [sent.hash] });
    expect(signed).toEqual([0n, 1n]); // not signed again either

    await rpc(l1.rpcUrl, "evm_mine", []);
    await rpc(l1.rpcUrl, "evm_setAutomine", [true]);
    expect((await client.getTransactionReceipt({ hash: sent.hash })).status).toBe("success");
    expect(await restarted.tick()).toEqual({ action: "posted", checkpointId: 1n, byOther: false });
    expect(restarted.inFlight).toBeUndefined();
    expect(await pool("nextCheckpointId")).toBe(2n);
    expect(await pool("lastRewardBlock")).toBe(cp.toBlock);
    expect((await sequencer(1n)).reward).toBe(parseEther("15"));
    expect(await nonce(POSTER, "latest")).toBe(2);
    expect(await submittedIds()).toEqual([0n, 1n]);
  });

  it("an unmined transaction is replaced with the same nonce and gas, fees bumped >= 1.15x and capped; the last one lands", async () => {
    cut(300, [
      [1, OWNER1, parseEther("1")],
      [2, RECIPIENT2, parseEther("2")],
    ]);
    await rpc(l1.rpcUrl, "evm_setAutomine", [false]);
    // No block is mined until the end, so the estimate (the first offer) stays the same; the cap
    // lets the first bump (1.15x) through and stops the second (1.3225x) at 1.3x.
    const est = await client.estimateFeesPerGas();
    const cap = (est.maxFeePerGas * 13n) / 10n;
    const s = poster("fees", { resubmitAfterMs: 0, fees: { ...defaultFeeOptions, maxFeePerGasCap: cap } });

    const first = await s.tick();
    if (first.action !== "sent") throw new Error(`expected sent, got ${JSON.stringify(first)}`);
    const tx1 = await client.getTransaction({ hash: first.hash });
    expect(tx1.maxFeePerGas).toBe(est.maxFeePerGas);
    expect(savedInFlight("fees")).toMatchObject({
      fees: {
        maxFeePerGas: tx1.maxFeePerGas!.toString(),
        maxPriorityFeePerGas: tx1.maxPriorityFeePerGas!.toString(),
      },
      gas: tx1.gas.toString(),
    });

    const second = await s.tick(); // not mined, resubmitAfterMs 0: replaced at once
    if (second.action !== "replaced") throw new Error(`expected replaced, got ${JSON.stringify(second)}`);
    const tx2 = await client.getTransaction({ hash: second.hash });
    expect(tx2.nonce).toBe(tx1.nonce);
    expect(tx2.gas).toBe(tx1.gas); // estimated once on "latest": on the pending block it would revert
    expect(tx2.maxFeePerGas! * 100n).toBeGreaterThanOrEqual(tx1.maxFeePerGas! * 115n);
    expect(tx2.maxPriorityFeePerGas! * 100n).toBeGreaterThanOrEqual(tx1.maxPriorityFeePerGas! * 115n);
    expect(tx2.maxFeePerGas!).toBeLessThanOrEqual(cap);

    const third = await s.tick(); // the bump would pass the cap: the cap is offered, and accepted
    if (third.action !== "replaced") throw new Error(`expected replaced, got ${JSON.stringify(third)}`);
    const tx3 = await client.getTransaction({ hash: third.hash });
    expect(tx3.nonce).toBe(tx1.nonce);
    expect(tx3.gas).toBe(tx1.gas);
    expect(tx2.maxFeePerGas! * 115n).toBeGreaterThan(cap * 100n);
    expect(tx3.maxFeePerGas).toBe(cap);
    expect(tx3.maxPriorityFeePerGas! * 100n).toBeGreaterThanOrEqual(tx2.maxPriorityFeePerGas! * 115n);
    expect(savedInFlight("fees")).toMatchObject({
      nonce: tx1.nonce,
      hashes: [first.hash, second.hash, third.hash],
      fees: { maxFeePerGas: cap.toString(), maxPriorityFeePerGas: tx3.maxPriorityFeePerGas!.toString() },
    });
    expect(await nonce(POSTER, "pending")).toBe(tx1.nonce + 1);
    expect(signed).toEqual([0n, 1n, 2n]); // signed once, sent three times

    await rpc(l1.rpcUrl, "evm_mine", []);
    await rpc(l1.rpcUrl, "evm_setAutomine", [true]);
    expect((await client.getTransactionReceipt({ hash: third.hash })).status).toBe("success");
    for (const h of [first.hash, second.hash])
      await expect(client.getTransactionReceipt({ hash: h })).rejects.toThrow();
    expect(await s.tick()).toEqual({ action: "posted", checkpointId: 2n, byOther: false });
    expect(await pool("nextCheckpointId")).toBe(3n);
    expect(await submittedIds()).toEqual([0n, 1n, 2n]);
    expect(posted).toEqual([
      [0n, false],
      [1n, false],
      [2n, false],
    ]);
  });

  it("each sequencer withdraws what the checkpoints credited: tokens to its recipient, gas from the caller", async () => {
    expect((await sequencer(1n)).reward).toBe(ledger.earned(1));
    expect((await sequencer(2n)).reward).toBe(ledger.earned(2));
    const payerBefore = await tokenBalance(d.rewardPayer);

    // Sequencer 1's owner is its recipient: it gains the reward in tokens and pays the gas in ETH.
    const tokens1 = await tokenBalance(address(OWNER1));
    const eth1 = await client.getBalance({ address: address(OWNER1) });
    const r1 = await send(OWNER1, d.lockingPool, LockingPoolArtifact.abi, "withdrawRewards", [1n]);
    expect((await tokenBalance(address(OWNER1))) - tokens1).toBe(parseEther("16"));
    expect(eth1 - (await client.getBalance({ address: address(OWNER1) }))).toBe(
      r1.gasUsed * r1.effectiveGasPrice,
    );
    expect((await sequencer(1n)).reward).toBe(0n);

    // Sequencer 2's recipient pulls it (the pool lets the owner or the recipient call).
    const tokens2 = await tokenBalance(address(RECIPIENT2));
    const eth2 = await client.getBalance({ address: address(RECIPIENT2) });
    const r2 = await send(RECIPIENT2, d.lockingPool, LockingPoolArtifact.abi, "withdrawRewards", [2n]);
    expect((await tokenBalance(address(RECIPIENT2))) - tokens2).toBe(parseEther("22"));
    expect(eth2 - (await client.getBalance({ address: address(RECIPIENT2) }))).toBe(
      r2.gasUsed * r2.effectiveGasPrice,
    );
    expect((await sequencer(2n)).reward).toBe(0n);
    expect(payerBefore - (await tokenBalance(d.rewardPayer))).toBe(parseEther("38"));

    // Nothing left: a second withdraw reverts.
    await expect(
      client.simulateContract({
        account: address(OWNER1),
        address: d.lockingPool,
        abi: LockingPoolArtifact.abi,
        functionName: "withdrawRewards",
        args: [1n],
      }),
    ).rejects.toThrow(/NoRewards/);
  });
});

/** A fresh secp256k1 signer: its address and 64-byte public key (as LockingPool.lockFor takes). */
function newSigner(): { address: Hex; pubkey: Hex } {
  const a = privateKeyToAccount(generatePrivateKey());
  return { address: a.address, pubkey: `0x${a.publicKey.slice(4)}` };
}

/** A 2-of-3 FROST group from a trusted dealer: signs like the node's group, without the network. */
function dealerGroup(): { groupKey: Hex; sign(digest: Hex): Hex } {
  const ids = [1, 2, 3].map((i) => frost.Identifier.fromNumber(i));
  const deal = frost.trustedDealer({ min: 2, max: 3 }, ids);
  return {
    groupKey: bytesToHex(deal.public.commitments[0]!),
    sign(digest) {
      const msg = hexToBytes(digest);
      const signers = ids.slice(0, 2);
      const rounds = signers.map((id) => frost.commit(deal.secretShares[id]!));
      const commitments = rounds.map((r) => r.commitments);
      const shares: Record<string, Uint8Array> = {};
      for (const [i, id] of signers.entries())
        shares[id] = frost.signShare(
          deal.secretShares[id]!,
          deal.public,
          rounds[i]!.nonces,
          commitments,
          msg,
        );
      const sig = frost.aggregate(deal.public, commitments, msg, shares);
      return bytesToHex(l1CompactSignatureBytes(toL1Signature(sig, deal.public.commitments[0]!)));
    },
  };
}
