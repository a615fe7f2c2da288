import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultFeeOptions } from "@dseq/batch-submitter";
import { bytesToHex, createMetrics, createNoopLogger, type Hex, hexToBytes } from "@dseq/common";
import {
  BatchInboxArtifact,
  type DevL1,
  deployL1Contracts,
  type L1Deployment,
  rpc,
  startDevL1,
} from "@dseq/l1-contracts";
import { frost, l1CompactSignatureBytes, toL1Signature } from "@dseq/mpc-tss";
import { createPublicClient, http, type PublicClient } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TssSetAtSpan } from "./keyRotation.ts";
import {
  type LocalTssNet,
  type ManualValidatorSource,
  manualValidatorSource,
  startLocalTssNet,
  waitUntil,
} from "./localTssNet.ts";
import {
  approveRotationOr,
  ROTATION_CONTEXT_KIND,
  readInboxKey,
  rotationApprove,
} from "./rotationApprove.ts";
import { RotationSubmitter } from "./rotationSubmitter.ts";
import { TssService } from "./tssService.ts";

const CHAIN_ID = 901n;
const SCRYPT = { N: 1 << 14, r: 8, p: 1 };

/**
 * A validator joins (set of 4 -> 5) on 5 real p2p hosts against a real BatchInbox on EDR: the
 * new set's DKG, the old key signs rotateGroupKey through every signer's rotationApprove, the
 * RotationSubmitter posts it once, shares switch on confirmRotation, and the next digest
 * verifies on L1 under the new key only.
 */
describe("key rotation posted to L1 (RotationSubmitter, TssService on 5 hosts, BatchInbox on EDR)", () => {
  let net: LocalTssNet;
  let l1: DevL1;
  let d: L1Deployment;
  let client: PublicClient;
  let root: string;
  let sources: ManualValidatorSource[];
  const services: TssService[] = [];
  const refusals: string[] = [];
  const inboxKey = () => readInboxKey(client, d.batchInbox);
  const verifyOnL1 = (digest: Uint8Array, sig: Hex) =>
    client.readContract({
      address: d.batchInbox,
      abi: BatchInboxArtifact.abi,
      functionName: "verifyGroupSignature",
      args: [bytesToHex(digest), sig],
    }) as Promise<boolean>;
  const submitter = (i: number, turn = true) => {
    const s = services[i] as TssService;
    return new RotationSubmitter(
      {
        rpcUrl: l1.rpcUrl,
        l1ChainId: l1.chainId,
        inbox: d.batchInbox,
        privateKey: l1.accounts[1 + i]!.privateKey,
        stateDir: join(root, `rotation${i}`),
        resubmitAfterMs: 60_000,
      },
      {
        rotation: () => s.rotation(),
        async sign(digest, newKey) {
          const sig = await s.sign(
            hexToBytes(digest),
            { kind: ROTATION_CONTEXT_KIND, newKey },
            { leader: s.self },
          );
          return bytesToHex(l1CompactSignatureBytes(sig.l1));
        },
        turn: () => turn,
      },
    );
  };

  beforeAll(async () => {
    [net, l1] = await Promise.all([startLocalTssNet(5, CHAIN_ID), startDevL1({ accounts: 8 })]);
    client = createPublicClient({ transport: http(l1.rpcUrl) }) as PublicClient;
    root = await mkdtemp(join(tmpdir(), "dseq-rotation-"));
    const set0: TssSetAtSpan = {
      span: 0n,
      validators: net.keys.slice(0, 4).map((k) => ({ party: k.id, power: 100n })),
    };
    sources = net.keys.map(() => manualValidatorSource(set0));
    for (const [i, key] of net.keys.entries()) {
      const holder: { s?: TssService } = {};
      const s = new TssService(
        {
          chainId: CHAIN_ID,
          dataDir: join(root, `node${i}`),
          password: "pw",
          scrypt: SCRYPT,
          coordinatorSlotMs: 1_500,
          signDeadlineMs: 20_000,
          dkgDeadlineMs: 30_000,
          approve: approveRotationOr(
            (m) => m.length === 32, // other kinds: not under test here
            rotationApprove({
              domain: {
                l1ChainId: l1.chainId,
                get address() {
                  return d.batchInbox; // deployed after the genesis DKG, before any rotation request
                },
              },
              rotation: () => holder.s?.rotation(),
              inboxKey,
              onRefusal: (r) => refusals.push(`${i}:${r}`),
              logger: createNoopLogger(),
            }),
          ),
        },
        { key, transport: net.transports[i]!, validators: sources[i]!, metrics: createMetrics() },
      );
      holder.s = s;
      services.push(s);
    }
    // The genesis set's DKG first; the inbox is deployed with its key (as the devnet does).
    await Promise.all(services.slice(0, 4).map((s) => s.start()));
    await waitUntil(() => services.slice(0, 4).every((s) => s.groupKey() !== undefined), 30_000, "dkg 0");
    d = await deployL1Contracts({
      rpcUrl: l1.rpcUrl,
      deployerKey: l1.accounts[0]!.privateKey,
      params: { l2ChainId: CHAIN_ID, groupKey: services[0]!.groupKey() as Hex },
    });
    await services[4]!.start();
  }, 120_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await net?.stop();
    await l1?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("the old key signs the rotation, it lands once (also across a restart with the tx pending), and the next digest verifies under the new key", async () => {
    const oldKey = services[0]!.groupKey() as Hex;
    expect((await inboxKey()).groupKey).toBe(oldKey);
    expect(await submitter(0).tick()).toEqual({ action: "idle", why: "no rotation" });

    const set1: TssSetAtSpan = { span: 8n, validators: net.keys.map((k) => ({ party: k.id, power: 100n })) };
    for (const src of sources) src.startSpan(set1);
    await waitUntil(
      () =>
        services.slice(0, 4).every((s) => s.rotation() !== undefined) &&
        services[4]!.groupKey() !== undefined,
      40_000,
      "dkg of the new set",
    );
    const r = services[0]!.rotation()!;
    expect(r.from).toBe(oldKey);
    expect(services.slice(0, 4).every((s) => s.rotation()?.to === r.to)).toBe(true);
    // L1 still has the old key: it is what every old member signs with until the rotation lands.
    expect(services.every((s, i) => (i < 4 ? s.groupKey() === oldKey : s.groupKey() === r.to))).toBe(true);

    const notMine = submitter(1, false);
    expect(await notMine.tick()).toEqual({ action: "idle", why: "not this node's turn" });
    // L1 stops mining: the transaction stays pending; the poster "restarts" from its state dir.
    await rpc(l1.rpcUrl, "evm_setAutomine", [false]);
    const sender = l1.accounts[1]!.address;
    const sent = await submitter(0).tick();
    expect(sent.action).toBe("sent");
    expect((await inboxKey()).groupKey).toBe(oldKey);
    const nonce = await client.getTransactionCount({ address: sender, blockTag: "pending" });
    const a = submitter(0); // a new instance on the same state dir: resumes, sends nothing new
    expect(a.active).toBe(true);
    expect(await a.tick()).toEqual({ action: "waiting", to: r.to });
    expect(await client.getTransactionCount({ address: sender, blockTag: "pending" })).toBe(nonce);
    await rpc(l1.rpcUrl, "evm_mine", []);
    await rpc(l1.rpcUrl, "evm_setAutomine", [true]);
    expect(await inboxKey()).toEqual({ groupKey: r.to, epoch: 1n });
    expect(refusals).toEqual([]);
    // exactly once: the sender closes it, a second submitter sends nothing
    expect(await a.tick()).toEqual({ action: "landed", to: r.to, byOther: false });
    expect(a.active).toBe(false);
    expect((await submitter(1).tick()).action).toBe("idle");
    expect((await a.tick()).action).toBe("idle");
    expect(await client.getTransactionCount({ address: sender, blockTag: "latest" })).toBe(nonce);
    expect((await inboxKey()).epoch).toBe(1n);

    // A rotation share asked for now (L1 moved on) is refused by the policy.
    await expect(
      services[1]!.sign(
        new Uint8Array(32).fill(9),
        { kind: ROTATION_CONTEXT_KIND, newKey: r.to },
        {
          leader: services[1]!.self,
          deadlineMs: 4_000,
        },
      ),
    ).rejects.toThrow();
    expect(refusals.some((x) => x.endsWith(":l1_key"))).toBe(true);

    // GroupKeyRotated confirmed -> shares switch; the new set (joiner included) signs under the new key.
    await Promise.all(services.slice(0, 4).map((s) => s.confirmRotation(r.to)));
    expect(services.every((s) => s.groupKey() === r.to && s.rotation() === undefined)).toBe(true);
    const digest = new Uint8Array(32).fill(0x5a);
    const leader = services[4]!.self;
    const sigs = await Promise.all(services.map((s) => s.sign(digest, { kind: "batch" }, { leader })));
    const compact = bytesToHex(l1CompactSignatureBytes(sigs[0]!.l1));
    expect(sigs[0]!.groupKey).toBe(r.to);
    expect(await verifyOnL1(digest, compact)).toBe(true);
    expect(await verifyOnL1(new Uint8Array(32).fill(1), compact)).toBe(false);
  }, 120_000);
});

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

/**
 * The poster's fee rule (batch-submitter's nextFees, ADR 0154) against EDR's pool: L1 does not
 * mine the first offer; the replacement (same nonce) bumps the saved offer by bumpPercent, stays
 * under the cap, is accepted by the pool and is the one that lands; the state file holds its fees.
 */
describe("rotation poster fees (BatchInbox on EDR, no mining until the replacement)", () => {
  let l1: DevL1;
  let root: string;
  beforeAll(async () => {
    [l1, root] = await Promise.all([startDevL1({ accounts: 3 }), mkdtemp(join(tmpdir(), "dseq-rotfees-"))]);
  }, 60_000);
  afterAll(async () => {
    await l1?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  // The replacement reuses the first offer's gas limit, estimated on "latest": on the pending
  // block the first rotation has already moved the epoch and the estimate would revert.
  it("a replacement offers >= 1.15x the first offer, <= the cap, is accepted, lands, and is saved", async () => {
    const oldGroup = dealerGroup();
    const newKey = dealerGroup().groupKey;
    const d = await deployL1Contracts({
      rpcUrl: l1.rpcUrl,
      deployerKey: l1.accounts[0]!.privateKey,
      params: { l2ChainId: CHAIN_ID, groupKey: oldGroup.groupKey },
    });
    const client = createPublicClient({ transport: http(l1.rpcUrl) }) as PublicClient;
    const stateDir = join(root, "rotation");
    const cap = 1_000n * 10n ** 9n;
    const s = new RotationSubmitter(
      {
        rpcUrl: l1.rpcUrl,
        l1ChainId: l1.chainId,
        inbox: d.batchInbox,
        privateKey: l1.accounts[1]!.privateKey,
        stateDir,
        resubmitAfterMs: 0,
        fees: { ...defaultFeeOptions, maxFeePerGasCap: cap },
      },
      {
        rotation: () => ({ from: oldGroup.groupKey, to: newKey, epoch: 1 }),
        sign: async (digest) => oldGroup.sign(digest),
        turn: () => true,
      },
    );
    const dg = `0x${"5a".repeat(32)}` as Hex;
    expect(
      await client.readContract({
        address: d.batchInbox,
        abi: BatchInboxArtifact.abi,
        functionName: "verifyGroupSignature",
        args: [dg, oldGroup.sign(dg)],
      }),
    ).toBe(true);
    const saved = () => JSON.parse(readFileSync(join(stateDir, "submitter.json"), "utf8")).inFlight;
    await rpc(l1.rpcUrl, "evm_setAutomine", [false]);
    const first = await s.tick();
    if (first.action !== "sent") throw new Error(`expected sent, got ${JSON.stringify(first)}`);
    const tx1 = await client.getTransaction({ hash: first.hash });
    expect(saved().fees).toEqual({
      maxFeePerGas: tx1.maxFeePerGas!.toString(),
      maxPriorityFeePerGas: tx1.maxPriorityFeePerGas!.toString(),
    });

    const second = await s.tick(); // not mined, resubmitAfterMs 0: replaced at once
    if (second.action !== "replaced") throw new Error(`expected replaced, got ${JSON.stringify(second)}`);
    const tx2 = await client.getTransaction({ hash: second.hash });
    expect(tx2.nonce).toBe(tx1.nonce);
    expect(tx2.maxFeePerGas! * 100n).toBeGreaterThanOrEqual(tx1.maxFeePerGas! * 115n);
    expect(tx2.maxPriorityFeePerGas! * 100n).toBeGreaterThanOrEqual(tx1.maxPriorityFeePerGas! * 115n);
    expect(tx2.maxFeePerGas!).toBeLessThanOrEqual(cap);
    expect(saved()).toMatchObject({
      hashes: [first.hash, second.hash],
      fees: {
        maxFeePerGas: tx2.maxFeePerGas!.toString(),
        maxPriorityFeePerGas: tx2.maxPriorityFeePerGas!.toString(),
      },
    });

    await rpc(l1.rpcUrl, "evm_mine", []);
    await rpc(l1.rpcUrl, "evm_setAutomine", [true]);
    expect((await client.getTransactionReceipt({ hash: second.hash })).status).toBe("success");
    expect(await readInboxKey(client, d.batchInbox)).toEqual({ groupKey: newKey, epoch: 1n });
    expect(await s.tick()).toEqual({ action: "landed", to: newKey, byOther: false });
  }, 30_000);
});
