import { type Block, createBlockFromRLP } from "@ethereumjs/block";
import { RLP } from "@ethereumjs/rlp";
import type { TypedTransaction } from "@ethereumjs/tx";
import { bytesToHex, hexToBytes } from "@ethereumjs/util";
import { type ChainState, cacheBlock } from "./chainState.ts";
import type { BlockRef, TxLookup } from "./chainTypes.ts";
import { L2ExecError, L2ExecErrorCode } from "./errors.ts";
import { enrichReceipts, type Hex, type ReceiptInfo } from "./receipts.ts";
import { blockKey, canonicalKey, certificateKey, decodeTxLookup, receiptsKey, txLookupKey } from "./store.ts";

/** Reads of committed blocks, receipts and transactions (state reads: `stateReads.ts`). */

export type BlockByHashContext = Pick<ChainState, "common" | "db" | "blockCache">;
export type BlockReadContext = BlockByHashContext & Pick<ChainState, "heads">;

/** Decodes a block RLP with this chain's rules and crypto. */
export function decodeBlock(ctx: Pick<ChainState, "common">, rlp: Uint8Array): Block {
  return createBlockFromRLP(rlp, { common: ctx.common, setHardfork: true });
}

export async function getBlockByHash(
  ctx: BlockByHashContext,
  hash: Uint8Array | Hex,
): Promise<Block | undefined> {
  const bytes = typeof hash === "string" ? hexToBytes(hash) : hash;
  const hex = bytesToHex(bytes);
  const cached = ctx.blockCache.get(hex);
  if (cached !== undefined) return cached;
  const raw = await ctx.db.get(blockKey(bytes));
  if (raw === undefined) return undefined;
  const block = decodeBlock(ctx, raw);
  cacheBlock(ctx, hex, block);
  return block;
}

export async function getBlockByNumber(
  ctx: BlockByHashContext,
  n: bigint | number,
): Promise<Block | undefined> {
  const hash = await ctx.db.get(canonicalKey(BigInt(n)));
  return hash === undefined ? undefined : getBlockByHash(ctx, hash);
}

/** A committed block by tag, number or hash (undefined when unknown). */
export async function getBlock(ctx: BlockReadContext, ref: BlockRef): Promise<Block | undefined> {
  if (ref === "latest") return ctx.heads.latest;
  if (ref === "safe") return ctx.heads.safe;
  if (ref === "finalized") return ctx.heads.finalized;
  if (ref === "earliest") return getBlockByNumber(ctx, 0n);
  if (typeof ref === "bigint" || typeof ref === "number") return getBlockByNumber(ctx, ref);
  if (ref instanceof Uint8Array || ref.length === 66) return getBlockByHash(ctx, ref);
  return getBlockByNumber(ctx, BigInt(ref));
}

export async function requireBlock(ctx: BlockReadContext, ref: BlockRef): Promise<Block> {
  const b = await getBlock(ctx, ref);
  if (b === undefined)
    throw new L2ExecError(L2ExecErrorCode.UnknownBlock, "unknown block", { details: { ref: String(ref) } });
  return b;
}

/** Consensus-encoded receipts of a committed block (debug_getRawReceipts). */
export async function getRawReceipts(
  ctx: Pick<ChainState, "db">,
  blockHash: Uint8Array | Hex,
): Promise<Uint8Array[] | undefined> {
  const bytes = typeof blockHash === "string" ? hexToBytes(blockHash) : blockHash;
  const raw = await ctx.db.get(receiptsKey(bytes));
  return raw === undefined ? undefined : (RLP.decode(raw) as Uint8Array[]);
}

/** Receipts of a committed block with every derived field. */
export async function getReceipts(ctx: BlockReadContext, ref: BlockRef): Promise<ReceiptInfo[] | undefined> {
  const block = await getBlock(ctx, ref);
  if (block === undefined) return undefined;
  const raw = await getRawReceipts(ctx, block.hash());
  return raw === undefined ? undefined : enrichReceipts(block, raw);
}

export async function getTransaction(
  ctx: BlockByHashContext,
  hash: Uint8Array | Hex,
): Promise<TxLookup | undefined> {
  const bytes = typeof hash === "string" ? hexToBytes(hash) : hash;
  const v = await ctx.db.get(txLookupKey(bytes));
  if (v === undefined) return undefined;
  const { blockHash, index } = decodeTxLookup(v);
  const block = await getBlockByHash(ctx, blockHash);
  if (block === undefined) return undefined;
  return {
    tx: block.transactions[index] as TypedTransaction,
    blockHash: bytesToHex(blockHash),
    blockNumber: block.header.number,
    index,
    block,
  };
}

export async function getTransactionReceipt(
  ctx: BlockByHashContext,
  hash: Uint8Array | Hex,
): Promise<ReceiptInfo | undefined> {
  const found = await getTransaction(ctx, hash);
  if (found === undefined) return undefined;
  const raw = await getRawReceipts(ctx, found.block.hash());
  if (raw === undefined) return undefined;
  return enrichReceipts(found.block, raw)[found.index];
}

/** Opaque bytes stored with the block at `height` (the commit certificate). */
export async function getCommitCertificate(
  ctx: Pick<ChainState, "db">,
  height: bigint | number,
): Promise<Uint8Array | undefined> {
  const v = await ctx.db.get(certificateKey(BigInt(height)));
  return v === undefined ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}
