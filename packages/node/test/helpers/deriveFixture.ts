// Shared by test/derive.test.ts and the derive bench: an L2 chain built the way the node builds
// it (l2-exec buildBlock + commit, deposits as L1 entries), and batches of it posted to a dev
// L1's BatchInbox under a test FROST key, as calldata or as blobs through the devnet forwarder.

import {
  BatchDataKind,
  type BatchHeader,
  type BatchTip,
  batchDigest,
  buildBatchHeader,
  type CommittedBlock,
  commitmentToVersionedHash,
  dataToBlobs,
  encodeBatch,
  type GroupSigner,
  loadKzg,
  tipAfter,
} from "@dseq/batch-submitter";
import { bytesToHex, type Hex } from "@dseq/common";
import { type Chain, type ChainConfig, createChain } from "@dseq/l2-exec";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  hexToBytes,
  http,
  keccak256,
  toHex,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { inboxCallAbi } from "../../src/derive/fetchBatchData.ts";
import { entriesToL1Entries, type L2Entry } from "../../src/l1Entries.ts";

export const L2_CHAIN_ID = 901n;
const senders = Array.from({ length: 16 }, (_, i) =>
  privateKeyToAccount(keccak256(toHex(`derive sender ${i}`))),
);

export const chainConfig: ChainConfig = {
  chainId: L2_CHAIN_ID,
  timestamp: 1_700_000_000n,
  alloc: Object.fromEntries(senders.map((s) => [s.address, { balance: 10n ** 24n }])),
};

export const openChain = (dataDir: string): Promise<Chain> =>
  createChain({ dataDir, chainConfig, syncWrites: false });

export type L2Builder = {
  chain: Chain;
  blocks: CommittedBlock[];
  next(opts?: BuildOpts): Promise<CommittedBlock>;
};
type BuildOpts = { txs?: number; deposits?: L2Entry[] };

/** Builds and commits blocks on `chain` like a proposer: signed transfers, deposits as withdrawals. */
export function l2Builder(chain: Chain): L2Builder {
  const nonces = senders.map(() => 0);
  let k = 0;
  const b: L2Builder = {
    chain,
    blocks: [],
    async next(o = {}) {
      const parent = chain.head();
      const txs: Uint8Array[] = [];
      for (let t = 0; t < (o.txs ?? 4); t++) {
        const si = k++ % senders.length;
        const signed = await senders[si]!.signTransaction({
          chainId: Number(L2_CHAIN_ID),
          type: "eip1559",
          nonce: nonces[si]!++,
          to: `0x${(0x1000 + (k % 97)).toString(16).padStart(40, "0")}`,
          value: BigInt(k) * 10n ** 12n,
          gas: 21_000n,
          maxFeePerGas: 50_000_000_000n,
          maxPriorityFeePerGas: 1_000_000n,
        });
        txs.push(hexToBytes(signed));
      }
      const deposits = o.deposits ?? [];
      const number = parent.header.number + 1n;
      const extraData = Uint8Array.from([
        1,
        0,
        0,
        0,
        0,
        ...hexToBytes(senders[Number(number % 4n)]!.address),
      ]);
      const built = await chain.buildBlock({
        parent,
        txs,
        timestamp: parent.header.timestamp + 2n,
        coinbase: senders[Number(number % 4n)]!.address.toLowerCase() as Hex,
        extraData,
        l1Entries: entriesToL1Entries(deposits),
      });
      if (built.skipped.length > 0) throw new Error(`fixture tx skipped: ${built.skipped[0]!.message}`);
      await chain.commit(built.block, built.receipts);
      const h = built.block.header;
      const c: CommittedBlock = {
        number: h.number,
        hash: bytesToHex(built.block.hash()),
        parentHash: bytesToHex(h.parentHash),
        timestamp: h.timestamp,
        coinbase: h.coinbase.toString() as Hex,
        stateRoot: bytesToHex(h.stateRoot),
        extraData: h.extraData,
        transactions: built.block.transactions.map((t) => t.serialize()),
        l1EntryCount: deposits.length,
      };
      b.blocks.push(c);
      return c;
    },
  };
  return b;
}

export type PostCtx = { rpcUrl: string; l1ChainId: number; inbox: Hex; privateKey: Hex; signer: GroupSigner };

/**
 * Signs and posts `blocks` as the batch after `tip` and waits for its receipt. `tamper` changes
 * the header before it is signed (the group signs it: only the verifier can catch it).
 */
export async function postBatch(
  ctx: PostCtx,
  tip: BatchTip,
  blocks: readonly CommittedBlock[],
  kind: BatchDataKind,
  tamper?: (h: BatchHeader) => BatchHeader,
): Promise<{ tip: BatchTip; header: BatchHeader; l1Block: bigint }> {
  const data = encodeBatch(blocks, { chainId: L2_CHAIN_ID });
  const blobs = kind === BatchDataKind.blobs ? dataToBlobs(data) : undefined;
  const kzg = blobs ? loadKzg() : undefined;
  const d =
    kind === BatchDataKind.calldata
      ? ({ kind, data } as const)
      : ({
          kind,
          versionedHashes: blobs!.map((bl) => commitmentToVersionedHash(kzg!.blobToKzgCommitment(bl))),
        } as const);
  let header = buildBatchHeader(L2_CHAIN_ID, tip, blocks, d);
  if (tamper) header = tamper(header);
  const signature = await ctx.signer.sign(
    batchDigest({ l1ChainId: BigInt(ctx.l1ChainId), address: ctx.inbox }, header),
    { header, data },
  );
  const account = privateKeyToAccount(ctx.privateKey);
  const chain = defineChain({
    id: ctx.l1ChainId,
    name: "dev-l1",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [ctx.rpcUrl] } },
  });
  const wallet = createWalletClient({ account, chain, transport: http(ctx.rpcUrl, { timeout: 90_000 }) });
  const pub = createPublicClient({ transport: http(ctx.rpcUrl, { timeout: 90_000 }) });
  const hash =
    kind === BatchDataKind.calldata
      ? await wallet.sendTransaction({
          to: ctx.inbox,
          data: encodeFunctionData({
            abi: inboxCallAbi,
            functionName: "appendBatch",
            args: [header, toHex(data), signature],
          }),
        })
      : await wallet.sendTransaction({
          to: ctx.inbox,
          data: encodeFunctionData({
            abi: inboxCallAbi,
            functionName: "appendBatchBlobs",
            args: [header, signature],
          }),
          gas: 500_000n,
          maxFeePerBlobGas: 10n ** 10n,
          blobs: blobs!,
          kzg: kzg!,
        } as never);
  const receipt = await pub.waitForTransactionReceipt({ hash, pollingInterval: 100, timeout: 90_000 });
  if (receipt.status !== "success") throw new Error(`batch ${header.batchIndex} reverted`);
  return { tip: tipAfter(header), header, l1Block: receipt.blockNumber };
}

/** A chain spec (`dseq derive --config`) whose genesis is `chainConfig`'s. */
export function chainSpecJson(): string {
  const v = privateKeyToAccount(keccak256(toHex("derive validator")));
  return JSON.stringify({
    chainId: Number(L2_CHAIN_ID),
    genesis: {
      timestamp: Number(chainConfig.timestamp),
      alloc: Object.fromEntries(
        Object.entries(chainConfig.alloc).map(([a, acc]) => [a, { balance: String(acc.balance) }]),
      ),
    },
    validators: [
      {
        id: 1,
        owner: v.address,
        signer: v.address,
        signerPubkey: `0x${v.publicKey.slice(4)}`,
        locked: "1000000000000000000000",
        rewardRecipient: v.address,
      },
    ],
  });
}
