// Test plumbing: a FROST group from @noble/curves' trusted dealer (as l1-contracts' tests do:
// what is under test here is the submitter and the inbox check, not the DKG), an in-memory
// committed chain, and a dev L1 on EDR with the contracts deployed under the group key.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNoopLogger, type Metrics } from "@dseq/common";
import { type DevL1, deployL1Contracts, type L1Deployment, rpc, startDevL1 } from "@dseq/l1-contracts";
import { secp256k1_FROST } from "@noble/curves/secp256k1.js";
import { bytesToHex, createPublicClient, type Hex, hexToBytes, http, type PublicClient } from "viem";
import {
  BatchDataKind,
  BatchSubmitter,
  type BatchSubmitterOptions,
  type CommittedBlock,
  type CommittedBlockSource,
  defaultBatchSubmitterOptions,
  type GroupSigner,
} from "../src/index.ts";

export const L2_CHAIN_ID = 901n;

export type FrostGroup = { groupKey: Hex; signer: GroupSigner; signed: number };

export function createFrostGroup(min = 2, max = 3): FrostGroup {
  const ids = Array.from({ length: max }, (_, i) => secp256k1_FROST.Identifier.fromNumber(i + 1));
  const deal = secp256k1_FROST.trustedDealer({ min, max }, ids);
  const g: FrostGroup = {
    groupKey: bytesToHex(deal.public.commitments[0]!),
    signed: 0,
    signer: {
      async sign(digest) {
        const m = hexToBytes(digest);
        const signers = ids.slice(0, min);
        const rounds = signers.map((id) => secp256k1_FROST.commit(deal.secretShares[id]!));
        const commitments = rounds.map((r) => r.commitments);
        const shares: Record<string, Uint8Array> = {};
        signers.forEach((id, i) => {
          shares[id] = secp256k1_FROST.signShare(
            deal.secretShares[id]!,
            deal.public,
            rounds[i]!.nonces,
            commitments,
            m,
          );
        });
        g.signed++;
        return bytesToHex(secp256k1_FROST.aggregate(deal.public, commitments, m, shares));
      },
    },
  };
  return g;
}

/** The committed chain as the node would serve it. */
export function memorySource(
  blocks: readonly CommittedBlock[],
): CommittedBlockSource & { blocks: CommittedBlock[] } {
  const s = {
    blocks: [...blocks],
    async head() {
      return s.blocks.length ? s.blocks[s.blocks.length - 1]!.number : 0n;
    },
    async block(n: bigint) {
      return s.blocks.find((b) => b.number === n);
    },
  };
  return s;
}

export type TestInbox = {
  l1: DevL1;
  d: L1Deployment;
  group: FrostGroup;
  dir: string;
  client: PublicClient;
  mine(n?: number): Promise<void>;
  submitter(
    source: CommittedBlockSource,
    over?: Partial<BatchSubmitterOptions>,
    metrics?: Metrics,
  ): BatchSubmitter;
  stop(): Promise<void>;
};

export async function startTestInbox(genesisStateRoot: Hex): Promise<TestInbox> {
  const l1 = await startDevL1({ accounts: 3 });
  const dir = mkdtempSync(join(tmpdir(), "dseq-batch-"));
  const group = createFrostGroup(3, 4);
  const d = await deployL1Contracts({
    rpcUrl: l1.rpcUrl,
    deployerKey: l1.accounts[0]!.privateKey,
    params: { l2ChainId: L2_CHAIN_ID, groupKey: group.groupKey, genesisStateRoot },
  });
  const client = createPublicClient({ transport: http(l1.rpcUrl, { timeout: 90_000 }) }) as PublicClient;
  return {
    l1,
    d,
    group,
    dir,
    client,
    async mine(n = 1) {
      for (let i = 0; i < n; i++) await rpc(l1.rpcUrl, "evm_mine", []);
    },
    submitter(source, over = {}, metrics) {
      return new BatchSubmitter(
        {
          ...defaultBatchSubmitterOptions,
          rpcUrl: l1.rpcUrl,
          l1ChainId: l1.chainId,
          inbox: d.batchInbox,
          l2ChainId: L2_CHAIN_ID,
          privateKey: l1.accounts[1]!.privateKey,
          stateDir: join(dir, "state"),
          dataKind: BatchDataKind.calldata,
          confirmations: 2,
          resubmitAfterMs: 60_000,
          rpcTimeoutMs: 90_000, // EDR checks blob proofs on submission; the first loads its setup
          cutter: { maxBlocks: 10, maxAgeSeconds: 0, maxRawBytes: 100_000 },
          ...over,
        },
        { source, signer: group.signer, logger: createNoopLogger(), ...(metrics ? { metrics } : {}) },
      );
    },
    async stop() {
      await l1.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
