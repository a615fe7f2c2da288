import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { vectorsPath } from "@dseq/common/vectors";
import type { GethGenesis } from "@ethereumjs/common";
import { RLP } from "@ethereumjs/rlp";
import { bytesToHex } from "@ethereumjs/util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Chain, createChain } from "../src/index.ts";

const dir = vectorsPath("execution-apis/tests");

describe.skipIf(!dir)("[vectors] execution-apis test chain import (executeBlock + commit)", () => {
  let dataDir: string;
  let chain: Chain;
  let genesis: GethGenesis;
  let rlp: Uint8Array;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "l2exec-import-"));
    genesis = JSON.parse(await readFile(join(dir as string, "genesis.json"), "utf8")) as GethGenesis;
    rlp = new Uint8Array(await readFile(join(dir as string, "chain.rlp")));
    chain = await createChain({ dataDir, genesis });
  }, 30_000);

  afterAll(async () => {
    await chain?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("imports all 54 blocks with every state and receipts root matching", async () => {
    // The genesis we build must be the parent of the chain's first block.
    const first = RLP.decode(rlp, true) as unknown as { data: Uint8Array[][] };
    const firstParent = bytesToHex((first.data[0] as Uint8Array[])[0] as Uint8Array);
    expect(bytesToHex(chain.genesisHash)).toBe(firstParent);

    const committed: { number: bigint; stateRoot: string }[] = [];
    chain.events.on("chain.committed", (e) => {
      committed.push({ number: e.number, stateRoot: e.stateRoot });
    });
    // importBlocks re-executes each block and refuses any state/receipts/bloom/gas difference.
    const n = await chain.importBlocks(rlp);
    expect(n).toBe(54);
    const fcu = JSON.parse(await readFile(join(dir as string, "headfcu.json"), "utf8")) as {
      params: [{ headBlockHash: string }];
    };
    expect(bytesToHex(chain.head().hash())).toBe(fcu.params[0].headBlockHash);
    expect(chain.head().header.number).toBe(54n);

    // Each stored block is byte-identical to the imported one.
    let rest = rlp;
    for (let i = 1n; i <= 54n; i++) {
      const { remainder } = RLP.decode(rest, true) as unknown as { remainder: Uint8Array };
      const original = rest.subarray(0, rest.length - remainder.length);
      rest = remainder;
      expect(bytesToHex((await chain.getRawBlock(i)) as Uint8Array)).toBe(bytesToHex(original));
    }
    // Each stored block's receipts re-encode to its header's receipts root.
    const { orderedTrieRoot } = await import("../src/trieRoot.ts");
    for (let i = 1n; i <= 54n; i++) {
      const block = await chain.getBlock(i);
      const raw = await chain.getRawReceipts((block as NonNullable<typeof block>).hash());
      expect(bytesToHex(orderedTrieRoot(raw as Uint8Array[]))).toBe(
        bytesToHex(block?.header.receiptTrie as Uint8Array),
      );
    }
    await new Promise((r) => setTimeout(r, 10));
    expect(committed.length).toBe(54);
  }, 120_000);

  it("a tampered block is reported with the exact differing fields, and nothing is committed", async () => {
    const block = await chain.getBlock(54n);
    expect(block).toBeDefined();
    const b = block as NonNullable<typeof block>;
    // Re-executing a committed block on its parent state reproduces it exactly.
    const again = await chain.executeBlock(b);
    expect(again.valid).toBe(true);
    expect(again.differences).toEqual([]);

    const { createBlock } = await import("@ethereumjs/block");
    const bad = createBlock(
      {
        header: {
          ...b.header.toJSON(),
          stateRoot: new Uint8Array(32).fill(1),
          gasUsed: b.header.gasUsed + 1n,
        },
        transactions: b.transactions,
        withdrawals: b.withdrawals?.map((w) => w.toValue()),
      },
      { common: b.common },
    );
    const res = await chain.executeBlock(bad);
    expect(res.valid).toBe(false);
    expect(res.differences.map((d) => d.field).sort()).toEqual(["gasUsed", "stateRoot"]);
    expect(chain.head().header.number).toBe(54n);
  }, 60_000);

  it("reopening the data dir continues from the same head and state root", async () => {
    const head = chain.head();
    await chain.close();
    chain = await createChain({ dataDir, genesis });
    expect(bytesToHex(chain.head().hash())).toBe(bytesToHex(head.hash()));
    expect(bytesToHex(chain.head().header.stateRoot)).toBe(bytesToHex(head.header.stateRoot));
    const tx = (await chain.getBlock(54n))?.transactions[0];
    if (tx !== undefined) {
      const found = await chain.getTransaction(tx.hash());
      expect(found?.blockNumber).toBe(54n);
    }
  }, 60_000);
});
