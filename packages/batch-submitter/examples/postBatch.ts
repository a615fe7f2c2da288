// Start a dev L1 (EDR on 127.0.0.1), deploy BatchInbox under a test FROST group key, post the
// committed blocks of a tiny L2 chain as one signed calldata batch, and decode it back from L1.
// Run:  bash scripts/env.sh node packages/batch-submitter/examples/postBatch.ts
import { createNoopLogger } from "@dseq/common";
import { bytesToHex, decodeFunctionData, type Hex, hexToBytes, keccak256, toHex } from "viem";
import {
  approveBatch,
  BatchDataKind,
  BatchSubmitter,
  batchHash,
  decodeBatch,
  defaultBatchSubmitterOptions,
} from "../src/index.ts";
import { inboxAbi } from "../src/submitter/inboxAbi.ts";
import { makeBlocks } from "../test/fixtures.ts";
import { L2_CHAIN_ID, memorySource, startTestInbox } from "../test/helpers.ts";

const t = await startTestInbox(keccak256(toHex("genesis")));
try {
  // 1. The committed chain (the node serves its chain store through CommittedBlockSource).
  const blocks = await makeBlocks({ kind: "transfer", chainId: L2_CHAIN_ID, blocks: 5, txsPerBlock: 3 });
  const source = memorySource(blocks);

  // 2. Every signer runs the approve policy on what it is asked to sign (here: one honest check).
  const signer = {
    sign: async (
      digest: Hex,
      req: { header: Parameters<typeof approveBatch>[0]["header"]; data: Uint8Array },
    ) => {
      const a = approveBatch(req, {
        chainId: L2_CHAIN_ID,
        tip: { batchIndex: 0n, batchHash: `0x${"00".repeat(32)}`, lastBlock: 0n },
        head: 5n,
        blocks,
      });
      if (!a.ok) throw new Error(`refused: ${a.reason}`);
      return t.group.signer.sign(digest, req);
    },
  };

  // 3. The submitter: cut, encode, sign, send, confirm.
  const submitter = new BatchSubmitter(
    {
      ...defaultBatchSubmitterOptions,
      rpcUrl: t.l1.rpcUrl,
      l1ChainId: t.l1.chainId,
      inbox: t.d.batchInbox,
      l2ChainId: L2_CHAIN_ID,
      privateKey: t.l1.accounts[1]!.privateKey,
      stateDir: `${t.dir}/submitter`,
      dataKind: BatchDataKind.calldata,
      confirmations: 1,
      cutter: { maxBlocks: 150, maxAgeSeconds: 0, maxRawBytes: 100_000 },
    },
    { source, signer, logger: createNoopLogger() },
  );
  for (let i = 0; i < 5; i++) {
    const r = await submitter.tick();
    if (r.action === "confirmed") {
      console.log(
        `batch ${r.header.batchIndex} posted: blocks ${r.header.firstBlock}..${r.header.lastBlock}, gas ${r.receipt?.gasUsed}`,
      );
      console.log(`batch hash ${batchHash(r.header)}`);
      // 4. A verifier reads the data back from the L1 transaction and decodes it.
      const tx = await t.client.getTransaction({ hash: r.receipt!.transactionHash });
      const call = decodeFunctionData({ abi: inboxAbi, data: tx.input });
      const decoded = decodeBatch(hexToBytes(call.args![1] as Hex), { chainId: L2_CHAIN_ID });
      const same = decoded.every((b, j) =>
        b.transactions.every((x, k) => bytesToHex(x) === bytesToHex(blocks[j]!.transactions[k]!)),
      );
      console.log(
        `decoded ${decoded.length} blocks, ${decoded.reduce((n, b) => n + b.transactions.length, 0)} txs, identical: ${same}`,
      );
      break;
    }
  }
  await submitter.stop();
} finally {
  await t.stop();
}
