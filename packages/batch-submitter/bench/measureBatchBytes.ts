// The batch-submitter half of `pnpm bench batch` (the suite is packages/node/bench/batch.bench.ts,
// which runs this file as its own process: the node may use batch-submitter, and these figures
// need its test fixtures). Bytes a transaction costs in our batch data next to OP Stack's channel
// encoding of the same blocks (measured in the same run), and L1 gas a transaction costs when the
// batch is really posted to BatchInbox on EDR. Run alone it prints one JSON line of the metrics:
//   bash scripts/env.sh node packages/batch-submitter/bench/measureBatchBytes.ts
import { keccak256, toHex } from "viem";
import { BatchDataKind, encodeBatch } from "../src/index.ts";
import { type FixtureKind, makeBlocks } from "../test/fixtures.ts";
import { L2_CHAIN_ID, memorySource, startTestInbox } from "../test/helpers.ts";
import { opChannelBytes } from "../test/opChannel.ts";

/** 150 blocks × 20 txs, median of 3 seeds, for the byte figures; 80 blocks posted for the gas. */
const BLOCKS = 150;
const TXS = 20;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function measureBatchBytes(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const kind of ["transfer", "erc20"] as FixtureKind[]) {
    const ours: number[] = [];
    const op: number[] = [];
    for (const seed of [1, 2, 3]) {
      const blocks = await makeBlocks({
        kind,
        chainId: L2_CHAIN_ID,
        blocks: BLOCKS,
        txsPerBlock: TXS,
        seed,
        senders: 200,
      });
      ours.push(encodeBatch(blocks, { chainId: L2_CHAIN_ID }).length / (BLOCKS * TXS));
      op.push(opChannelBytes(blocks) / (BLOCKS * TXS));
    }
    out[`batch_bytes_per_tx_${kind}`] = median(ours);
    out[`op_brotli_bytes_per_tx_${kind}`] = median(op);
    out[`batch_vs_op_ratio_${kind}`] = median(ours) / median(op);
  }

  const t = await startTestInbox(keccak256(toHex("genesis")));
  try {
    const chain = await makeBlocks({
      kind: "transfer",
      chainId: L2_CHAIN_ID,
      blocks: 80,
      txsPerBlock: TXS,
      senders: 200,
    });
    const gasPerTx = async (dataKind: BatchDataKind, upTo: number) => {
      const source = memorySource(chain.slice(0, upTo));
      const s = t.submitter(source, {
        dataKind,
        cutter: { maxBlocks: 40, maxAgeSeconds: 0, maxRawBytes: 1_000_000 },
      });
      let gas = 0n;
      let blobGas = 0n;
      let txs = 0;
      for (let i = 0; i < 50; i++) {
        const r = await s.tick();
        if (r.action === "error") throw new Error(r.error);
        if (r.action === "confirmed" && r.receipt) {
          gas += r.receipt.gasUsed;
          // EDR's receipts omit blobGasUsed: each blob is 2^17 blob gas (EIP-4844).
          const tx = await t.client.getTransaction({ hash: r.receipt.transactionHash });
          blobGas += BigInt(tx.blobVersionedHashes?.length ?? 0) * 131_072n;
          txs += Number(r.header.lastBlock - r.header.firstBlock + 1n) * TXS;
        }
        if (r.action === "idle") break;
        if (r.action === "waiting" || r.action === "mining") await t.mine();
      }
      return { gas: Number(gas) / txs, blobGas: Number(blobGas) / txs };
    };
    out.batch_l1_gas_per_tx = (await gasPerTx(BatchDataKind.calldata, 40)).gas;
    const blobs = await gasPerTx(BatchDataKind.blobs, 80);
    out.batch_l1_gas_per_tx_blobs = blobs.gas;
    out.batch_blob_gas_per_tx = blobs.blobGas;
  } finally {
    await t.stop();
  }
  return out;
}

if (import.meta.main) {
  const out = await measureBatchBytes();
  process.stdout.write(`${JSON.stringify(out)}\n`);
  // EDR clients may leave sockets behind; the figures are written.
  process.exit(0);
}
