import { keccak256 } from "@dseq/crypto";
import type { Block } from "@ethereumjs/block";
import { RLP } from "@ethereumjs/rlp";
import { bytesToHex, equalsBytes } from "@ethereumjs/util";
import { type ChainState, cacheBlock, checkOpen, type PendingEntry, serial } from "./chainState.ts";
import { L2ExecError, L2ExecErrorCode } from "./errors.ts";
import { encodeBlock } from "./execute.ts";
import { type ExecuteBlockContext, executeBlock } from "./executeBlock.ts";
import {
  type BatchOp,
  blockKey,
  bloomKey,
  canonicalKey,
  certificateKey,
  encodeTxLookup,
  headKey,
  receiptsKey,
  txLookupKey,
} from "./store.ts";

export type CommitExtra = {
  /** Opaque bytes stored beside the block (the BFT commit certificate). */
  commitCertificate?: Uint8Array;
  /** Move the safe / finalized heads to this block in the same atomic batch. */
  safe?: boolean;
  finalized?: boolean;
};

export type CommitBlockContext = ExecuteBlockContext &
  Pick<ChainState, "writeLock" | "heads" | "syncWrites" | "events">;

/**
 * Makes `block` the latest head in one atomic LevelDB batch: state trie nodes, block,
 * receipts, tx lookups, bloom, `extra.commitCertificate`, heads. The block must be a child
 * of the latest head and valid (it is executed here if it was not built or executed before).
 * With `syncWrites` (the default) the batch is fsynced: when this resolves the block is on
 * disk and survives a power cut.
 */
export async function commitBlock(
  ctx: CommitBlockContext,
  block: Block,
  extra: CommitExtra = {},
): Promise<void> {
  checkOpen(ctx);
  await serial(ctx, async () => {
    const hash = bytesToHex(block.hash());
    const latest = ctx.heads.latest;
    if (
      !equalsBytes(block.header.parentHash, latest.hash()) ||
      block.header.number !== latest.header.number + 1n
    ) {
      throw new L2ExecError(L2ExecErrorCode.NotChild, "block is not a child of the latest head", {
        details: { number: block.header.number, head: latest.header.number },
      });
    }
    let entry = ctx.pending.get(hash);
    if (entry === undefined) {
      const ex = await executeBlock(ctx, block);
      if (!ex.valid) {
        throw new L2ExecError(L2ExecErrorCode.InvalidBlock, "block does not match its re-execution", {
          details: { differences: ex.differences, invalidTx: ex.invalidTx },
        });
      }
      entry = ctx.pending.get(hash) as PendingEntry;
    }
    const stop = ctx.metrics.commit?.startTimer();
    const res = entry.result;
    const writes = res.overlay.collectWrites();
    const number = block.header.number;
    const bhash = block.hash();
    const ops: BatchOp[] = ctx.store.toBatch(writes);
    const sameTxs = res.encodedTxs.length === block.transactions.length;
    const blockRlp = sameTxs ? encodeBlock(block, res.encodedTxs) : block.serialize();
    ops.push({ type: "put", key: blockKey(bhash), value: blockRlp });
    ops.push({ type: "put", key: canonicalKey(number), value: bhash });
    ops.push({ type: "put", key: receiptsKey(bhash), value: RLP.encode(res.encodedReceipts) });
    block.transactions.forEach((tx, i) => {
      // a tx hash is keccak of its serialization, which execution already produced
      const txHash = sameTxs ? keccak256(res.encodedTxs[i] as Uint8Array) : tx.hash();
      ops.push({ type: "put", key: txLookupKey(txHash), value: encodeTxLookup(bhash, i) });
    });
    ops.push({ type: "put", key: bloomKey(number), value: block.header.logsBloom });
    if (extra.commitCertificate !== undefined) {
      ops.push({ type: "put", key: certificateKey(number), value: extra.commitCertificate });
    }
    ops.push({ type: "put", key: headKey("latest"), value: bhash });
    if (extra.safe === true) ops.push({ type: "put", key: headKey("safe"), value: bhash });
    if (extra.finalized === true) ops.push({ type: "put", key: headKey("finalized"), value: bhash });
    // Everything the commit makes durable is in this one batch: execution wrote its state
    // nodes and code to the in-memory overlay only (OverlayDB; FastStateManager and
    // trieUpdate write there, never to LevelDB), so no node of this block reached the disk
    // before. Were any written earlier unsynced, this synced batch would still cover them:
    // LevelDB appends every write to one ordered log, and fsyncing it at this record makes
    // all earlier records durable too. The head pointer is in the batch, so a head on disk
    // always has its state.
    await ctx.db.batch(ops as never, { sync: ctx.syncWrites });
    ctx.store.persisted(writes);
    ctx.heads.latest = block;
    if (extra.safe === true) ctx.heads.safe = block;
    if (extra.finalized === true) ctx.heads.finalized = block;
    cacheBlock(ctx, hash, block);
    for (const [k, e] of ctx.pending) {
      if (e.result.block.header.number <= number) ctx.pending.delete(k);
    }
    stop?.();
    ctx.metrics.head?.set(Number(number));
    ctx.metrics.txs?.inc(undefined, block.transactions.length);
    ctx.events.emit("chain.committed", {
      number,
      hash,
      parentHash: bytesToHex(block.header.parentHash),
      stateRoot: bytesToHex(block.header.stateRoot),
      txCount: block.transactions.length,
      gasUsed: block.header.gasUsed,
      timestamp: block.header.timestamp,
    });
  });
}
