import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex } from "@dseq/common";
import { type Chain, createChain } from "@dseq/l2-exec";
import { afterAll, describe, expect, it } from "vitest";
import { chainCommittedBlocks } from "./chainBlocks.ts";

describe("chainCommittedBlocks (the batch view of a real chain store)", () => {
  let chain: Chain | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    await chain?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("gives committed blocks with their hashes, roots and raw fields, nothing above the head", async () => {
    dir = await mkdtemp(join(tmpdir(), "dseq-chainblocks-"));
    chain = await createChain({
      dataDir: join(dir, "chain"),
      chainConfig: { chainId: 1337n, gasLimit: 30_000_000n, timestamp: 1_700_000_000n, alloc: {} },
    });
    const coinbase = `0x${"ab".repeat(20)}` as const;
    for (let i = 1; i <= 2; i++) {
      const built = await chain.buildBlock({
        txs: [],
        timestamp: BigInt(1_700_000_000 + 2 * i),
        coinbase,
        extraData: new Uint8Array([i]),
        // Block 2 takes one L1 entry: the batch carries the count (ADR 0180).
        l1Entries: i === 2 ? [{ index: 0n, kind: 0, to: coinbase, amount: 10n ** 9n }] : [],
      });
      await chain.commit(built.block, built.receipts);
    }
    const src = chainCommittedBlocks(chain);
    expect(await src.head()).toBe(2n);
    const b2 = await src.block(2n);
    const stored = await chain.getBlockByNumber(2n);
    expect(b2).toEqual({
      number: 2n,
      hash: bytesToHex(stored!.hash()),
      parentHash: bytesToHex(stored!.header.parentHash),
      timestamp: 1_700_000_004n,
      coinbase,
      stateRoot: bytesToHex(stored!.header.stateRoot),
      extraData: new Uint8Array([2]),
      transactions: [],
      l1EntryCount: 1,
    });
    expect((await src.block(1n))?.l1EntryCount).toBe(0);
    expect((await src.block(1n))?.hash).toBe(b2?.parentHash);
    expect(await src.block(3n)).toBeUndefined();
  });
});
