import type { BatchBlock, BatchHeader } from "@dseq/batch-submitter";
import { bytesToHex, type Hex } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import type { Block } from "@ethereumjs/block";
import { decodeBlockEntries, entriesToL1Entries, type L2Entry } from "../l1Entries.ts";
import { checkExecutedBlock, type DerivedTip } from "./checkBatch.ts";
import { DeriveError, DeriveErrorCode } from "./errors.ts";

export type DeriveBatchCtx = {
  chain: Chain;
  /** Confirmed L1 entries from `index` (at most `n`), in L1 order. */
  entries(index: bigint, n: number): L2Entry[];
};

/** A block already in the store (a restart mid-batch) must be the batch's block. */
function checkStoredBlock(header: BatchHeader, b: BatchBlock, stored: Block, entryCount: number): void {
  const h = stored.header;
  const diff = (field: string, expected: unknown, actual: unknown): never => {
    throw new DeriveError(DeriveErrorCode.StoredBlock, "the stored block differs from the batch", {
      batchIndex: header.batchIndex,
      block: b.number,
      field,
      expected: String(expected),
      actual: String(actual),
    });
  };
  if (h.timestamp !== b.timestamp) diff("timestamp", b.timestamp, h.timestamp);
  if (h.coinbase.toString().toLowerCase() !== b.coinbase.toLowerCase())
    diff("coinbase", b.coinbase, h.coinbase);
  if (bytesToHex(h.extraData) !== bytesToHex(b.extraData))
    diff("extraData", bytesToHex(b.extraData), bytesToHex(h.extraData));
  if (stored.transactions.length !== b.transactions.length)
    diff("txCount", b.transactions.length, stored.transactions.length);
  stored.transactions.forEach((tx, k) => {
    if (bytesToHex(tx.serialize()) !== bytesToHex(b.transactions[k]!))
      diff(`transactions[${k}]`, "batch bytes", "other");
  });
  const d = decodeBlockEntries(stored.withdrawals);
  const n = d.ok ? d.entries.length : -1;
  if (n !== entryCount) diff("l1EntryCount", entryCount, n);
}

/**
 * Re-executes a checked batch's blocks on the verifier's chain (ADR 0180): each block built on
 * the last from the batch's timestamp, coinbase, extra data and transactions plus the next
 * `l1EntryCount` entries of this verifier's own L1 view; every transaction must run, and the last
 * block's hash and state root must be the header's before it is committed. Once the whole batch
 * holds, its last block becomes safe and finalized. Returns the new tip.
 */
export async function deriveBatch(
  ctx: DeriveBatchCtx,
  tip: DerivedTip,
  header: BatchHeader,
  blocks: readonly BatchBlock[],
  l1Block: bigint,
  batchHash: Hex,
): Promise<DerivedTip> {
  const { chain } = ctx;
  let next = tip.nextEntry;
  let last: { hash: Hex; number: bigint } = { hash: tip.lastBlockHash, number: tip.lastBlock };
  for (const b of blocks) {
    const count = b.l1EntryCount ?? 0;
    const entries = ctx.entries(next, count);
    if (entries.length < count) {
      throw new DeriveError(
        DeriveErrorCode.L1Entries,
        `takes ${count} L1 entries from ${next}, L1 confirmed ${entries.length}`,
        {
          batchIndex: header.batchIndex,
          block: b.number,
          field: "l1EntryCount",
          expected: `<= ${entries.length}`,
          actual: String(count),
        },
      );
    }
    const head = chain.head();
    if (head.header.number >= b.number) {
      const stored = await chain.getBlockByNumber(b.number);
      if (!stored)
        throw new DeriveError(DeriveErrorCode.BadStore, "a block under the head is missing", {
          batchIndex: header.batchIndex,
          block: b.number,
          field: "block",
        });
      checkStoredBlock(header, b, stored, count);
      checkExecutedBlock(header, b, {
        number: b.number,
        hash: bytesToHex(stored.hash()),
        stateRoot: bytesToHex(stored.header.stateRoot),
        txCount: stored.transactions.length,
        skipped: [],
      });
      last = { hash: bytesToHex(stored.hash()), number: b.number };
      next += BigInt(count);
      continue;
    }
    const built = await chain.buildBlock({
      parent: head,
      txs: b.transactions,
      timestamp: b.timestamp,
      coinbase: b.coinbase,
      extraData: b.extraData,
      l1Entries: entriesToL1Entries(entries),
    });
    const hash = bytesToHex(built.block.hash());
    checkExecutedBlock(header, b, {
      number: built.block.header.number,
      hash,
      stateRoot: bytesToHex(built.block.header.stateRoot),
      txCount: built.block.transactions.length,
      skipped: built.skipped.map((s) => ({ index: s.index, reason: s.reason })),
    });
    await chain.commit(built.block, built.receipts);
    last = { hash, number: b.number };
    next += BigInt(count);
  }
  await chain.setSafe(last.number);
  await chain.setFinalized(last.number);
  return {
    batchIndex: header.batchIndex,
    batchHash,
    lastBlock: last.number,
    lastBlockHash: last.hash,
    l1Block,
    nextEntry: next,
  };
}
