/**
 * `pnpm bench deriveCore`: the verifier's derivation core on 1,000 blocks of transfers (20 a block,
 * 10 batches of 100): decode the batch data, rebuild every block with the L1 entries, check the
 * last block hash and state root, commit. Compared with importing the same blocks the way a
 * follower does after fetching them (`executeBlock` + `commit`), in the same process. The L1 part
 * (log scan, tx and blob fetch) is left out: on EDR it is the same RPC round trips either way and
 * test/derive.test.ts covers it; the p2p fetch of the follower is left out alike. The issue's
 * figures, with a real L1 and a real p2p follower, are `pnpm bench derive`
 * (packages/devnet/bench/derive.bench.ts: it needs the devnet, which node cannot import).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BatchDataKind,
  type BatchTip,
  batchHash,
  buildBatchHeader,
  encodeBatch,
  tipAfter,
} from "@dseq/batch-submitter";
import { bytesToHex } from "@dseq/common";
import { keccak256 } from "viem";
import { checkBatchLink, type DerivedTip, decodeBatchData, genesisTip } from "../src/derive/checkBatch.ts";
import { deriveBatch } from "../src/derive/deriveBatch.ts";
import { L2_CHAIN_ID, l2Builder, openChain } from "../test/helpers/deriveFixture.ts";

export const description =
  "derivation core (decode + rebuild + checks + commit) vs follower import (executeBlock + commit) of the same 1,000 transfer blocks, one process, L1 and p2p fetch excluded";

const BLOCKS = 1000;
const TXS = 20;
const PER_BATCH = 100;

export default async function run(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), "dseq-bench-derive-"));
  try {
    const l2 = l2Builder(await openChain(join(dir, "original")));
    for (let n = 0; n < BLOCKS; n++) await l2.next({ txs: TXS });
    // The batches as they would be on L1 (calldata), with the events a listener would give.
    let tip: BatchTip = { batchIndex: 0n, batchHash: `0x${"00".repeat(32)}`, lastBlock: 0n };
    const batches: { data: Uint8Array; ev: Parameters<typeof checkBatchLink>[1] }[] = [];
    for (let i = 0; i < BLOCKS; i += PER_BATCH) {
      const blocks = l2.blocks.slice(i, i + PER_BATCH);
      const data = encodeBatch(blocks, { chainId: L2_CHAIN_ID });
      const header = buildBatchHeader(L2_CHAIN_ID, tip, blocks, { kind: BatchDataKind.calldata, data });
      batches.push({
        data,
        ev: {
          type: "batchAppended",
          seq: i,
          ...header,
          batchHash: batchHash(header),
          submitter: "0x0000000000000000000000000000000000000001",
          l1: {
            blockNumber: BigInt(i),
            blockHash: keccak256(data),
            logIndex: 0,
            transactionHash: keccak256(data),
            address: "0x0000000000000000000000000000000000000002",
          },
        },
      });
      tip = tipAfter(header);
    }
    const raw = await Promise.all(l2.blocks.map(async (b) => (await l2.chain.getRawBlock(b.number))!));
    await l2.chain.close();

    const verifier = await openChain(join(dir, "verifier"));
    let dtip: DerivedTip = genesisTip(bytesToHex(verifier.genesisHash));
    const t0 = performance.now();
    for (const b of batches) {
      const header = checkBatchLink(dtip, b.ev, L2_CHAIN_ID);
      const blocks = decodeBatchData(header, b.data);
      dtip = await deriveBatch(
        { chain: verifier, entries: () => [] },
        dtip,
        header,
        blocks,
        b.ev.l1.blockNumber,
        b.ev.batchHash,
      );
    }
    const deriveS = (performance.now() - t0) / 1000;
    if (dtip.lastBlockHash !== l2.blocks[BLOCKS - 1]!.hash) throw new Error("derived head differs");
    await verifier.close();

    const follower = await openChain(join(dir, "follower"));
    const t1 = performance.now();
    for (const rlp of raw) {
      const ex = await follower.executeBlock(rlp);
      if (!ex.valid) throw new Error(`import failed: ${JSON.stringify(ex.differences)}`);
      await follower.commit(follower.decodeBlock(rlp), ex.receipts);
    }
    const importS = (performance.now() - t1) / 1000;
    await follower.close();
    const r = (v: number) => Math.round(v * 10) / 10;
    return {
      core_derive_blocks_per_s: r(BLOCKS / deriveS),
      core_derive_tx_per_s: r((BLOCKS * TXS) / deriveS),
      core_import_blocks_per_s: r(BLOCKS / importS),
      core_derive_vs_import_ratio: Math.round((importS / deriveS) * 1000) / 1000,
      core_batch_bytes_per_tx: r(batches.reduce((n, b) => n + b.data.length, 0) / (BLOCKS * TXS)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
