import { isDseqError } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { makeBlocks } from "../../test/fixtures.ts";
import { approveBatch, RefusalReason } from "../approve/approveBatch.ts";
import { BatchErrorCode } from "../errors.ts";
import { decodeBatch } from "./decodeBatch.ts";
import { encodeBatch } from "./encodeBatch.ts";
import { BatchDataKind, buildBatchHeader } from "./header.ts";
import { MAX_L1_ENTRIES_PER_BLOCK } from "./types.ts";

const CHAIN = 901n;

describe("per-block L1 entry counts (payload version 2, ADR 0180)", () => {
  it("round-trip, absent counts decode as 0", async () => {
    const blocks = await makeBlocks({ kind: "transfer", chainId: CHAIN, blocks: 4, txsPerBlock: 2 });
    const counts = [0, 3, undefined, MAX_L1_ENTRIES_PER_BLOCK];
    const withCounts = blocks.map((b, i) => ({ ...b, l1EntryCount: counts[i] }));
    const back = decodeBatch(encodeBatch(withCounts, { chainId: CHAIN }), { chainId: CHAIN });
    expect(back.map((b) => b.l1EntryCount)).toEqual([0, 3, 0, MAX_L1_ENTRIES_PER_BLOCK]);
  });

  it("refuses a count over the per-block bound, naming the block", async () => {
    const [b] = await makeBlocks({ kind: "transfer", chainId: CHAIN, blocks: 1, txsPerBlock: 1 });
    const data = encodeBatch([{ ...b!, l1EntryCount: MAX_L1_ENTRIES_PER_BLOCK + 1 }], { chainId: CHAIN });
    let err: unknown;
    try {
      decodeBatch(data, { chainId: CHAIN });
    } catch (e) {
      err = e;
    }
    expect(isDseqError(err) && err.code).toBe(BatchErrorCode.BadBatchData);
    expect((err as Error).message).toMatch(/L1 entry count of block 0/);
  });
});

describe("approveBatch compares the entry counts", () => {
  it("refuses data whose L1 entry count differs from the signer's own block", async () => {
    const blocks = await makeBlocks({ kind: "transfer", chainId: CHAIN, blocks: 2, txsPerBlock: 1 });
    const own = blocks.map((b, i) => ({ ...b, l1EntryCount: i }));
    const tip = { batchIndex: 0n, batchHash: `0x${"00".repeat(32)}` as const, lastBlock: 0n };
    const ownChain = { chainId: CHAIN, tip, head: 2n, blocks: own };
    const signed = (bs: typeof own) => {
      const data = encodeBatch(bs, { chainId: CHAIN });
      return { header: buildBatchHeader(CHAIN, tip, own, { kind: BatchDataKind.calldata, data }), data };
    };
    expect(approveBatch(signed(own), ownChain)).toEqual({ ok: true });
    const other = approveBatch(signed(own.map((b) => ({ ...b, l1EntryCount: 3 }))), ownChain);
    expect(other.ok ? "ok" : other.reason).toBe(RefusalReason.DataMismatch);
  });
});
