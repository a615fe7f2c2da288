/**
 * Block, transaction and receipt reads (eth_getBlock*, eth_getTransaction*, receipts, debug_getRaw*);
 * a preconfirmed transaction's receipt before its block commits (ADR 0177).
 */
import { bigintToHex, type Hex, numberToHex } from "@dseq/common";
import { blockOf, type Services } from "../context.ts";
import { formatBlock, formatBlockReceipts, formatReceipt, formatTransaction, type Json } from "../format.ts";
import {
  blockNumberOrTag,
  blockRef,
  bool,
  hash,
  optional,
  ParamError,
  type Parser,
  required,
  uint,
} from "../params.ts";
import { type MethodDef, method } from "../registry.ts";
import type {
  BlockData,
  BlockHeaderData,
  PreconfirmedReceiptData,
  ReceiptData,
  TransactionData,
} from "../types.ts";

function txAt(block: BlockData, index: number): Json {
  const tx = block.transactions[index];
  if (tx === undefined) return null;
  const h = block.header;
  return formatTransaction(tx, {
    blockHash: h.hash,
    blockNumber: h.number,
    blockTimestamp: h.timestamp,
    index,
    ...(h.baseFeePerGas === undefined ? {} : { baseFee: h.baseFeePerGas }),
  });
}

/** A preconfirmed receipt's block hash (ADR 0177): the zero hash, as Flashblocks nodes answer. */
export const PRECONFIRMED_BLOCK_HASH: Hex = `0x${"00".repeat(32)}`;

/**
 * The receipt of a preconfirmed, not yet committed transaction (ADR 0177): the committed
 * receipt's JSON with the open height as `blockNumber` and the zero hash as `blockHash` (in the
 * receipt and its logs).
 */
export function preconfirmedReceiptJson(pre: PreconfirmedReceiptData): Json {
  const header = { hash: PRECONFIRMED_BLOCK_HASH, number: pre.blockNumber, timestamp: pre.timestamp };
  return formatReceipt(
    pre.receipt,
    pre.tx as TransactionData,
    header as BlockHeaderData,
    pre.index,
    pre.firstLogIndex,
  );
}

/**
 * The receipt lookup's optional second parameter (ADR 0179): `"pending"` also answers a
 * preconfirmed transaction's receipt, `"latest"` only a committed one; absent, the node's
 * `preconfirmedReceipts` option decides.
 */
const receiptTag: Parser<"pending" | "latest"> = (v) => {
  if (v === "pending" || v === "latest") return v;
  throw new ParamError('receipt tag must be "pending" or "latest"');
};

export function chainMethods(svc: Services): Record<string, MethodDef> {
  const { chain } = svc;

  async function locate(txHash: Hex): Promise<{ block: BlockData; index: number } | undefined> {
    const loc = await chain.getTransactionLocation(txHash);
    if (loc === undefined) return undefined;
    const block = await chain.getBlockByHash(loc.blockHash);
    if (block === undefined || block.transactions[loc.index] === undefined) return undefined;
    return { block, index: loc.index };
  }

  async function committedReceipt(txHash: Hex): Promise<Json | undefined> {
    const found = await locate(txHash);
    if (found === undefined) return undefined;
    const receipts = await chain.getReceipts(found.block.header.hash);
    const receipt = receipts?.[found.index];
    if (receipts === undefined || receipt === undefined) return undefined;
    let firstLogIndex = 0;
    for (let i = 0; i < found.index; i++) firstLogIndex += (receipts[i] as ReceiptData).logs.length;
    const tx = found.block.transactions[found.index] as TransactionData;
    return formatReceipt(receipt, tx, found.block.header, found.index, firstLogIndex);
  }

  return {
    eth_chainId: method([], () => bigintToHex(chain.chainId)),
    eth_blockNumber: method([], () => bigintToHex(chain.heads().latest)),

    eth_getBlockByNumber: method([required(blockNumberOrTag), required(bool)], async ([ref, full]) => {
      const block = await blockOf(chain, ref);
      return block === undefined ? null : formatBlock(block, full);
    }),
    eth_getBlockByHash: method([required(hash), required(bool)], async ([h, full]) => {
      const block = await chain.getBlockByHash(h);
      return block === undefined ? null : formatBlock(block, full);
    }),
    eth_getBlockTransactionCountByNumber: method([required(blockNumberOrTag)], async ([ref]) => {
      const block = await blockOf(chain, ref);
      return block === undefined ? null : numberToHex(block.transactions.length);
    }),
    eth_getBlockTransactionCountByHash: method([required(hash)], async ([h]) => {
      const block = await chain.getBlockByHash(h);
      return block === undefined ? null : numberToHex(block.transactions.length);
    }),
    eth_getUncleCountByBlockNumber: method([required(blockNumberOrTag)], async ([ref]) => {
      const block = await blockOf(chain, ref);
      return block === undefined ? null : numberToHex(block.uncles.length);
    }),
    eth_getUncleCountByBlockHash: method([required(hash)], async ([h]) => {
      const block = await chain.getBlockByHash(h);
      return block === undefined ? null : numberToHex(block.uncles.length);
    }),

    eth_getTransactionByHash: method([required(hash)], async ([h]) => {
      const found = await locate(h);
      if (found !== undefined) return txAt(found.block, found.index);
      const pending = svc.backend.txpool?.getTransaction(h);
      return pending === undefined ? null : formatTransaction(pending, undefined);
    }),
    eth_getTransactionByBlockHashAndIndex: method([required(hash), required(uint)], async ([h, index]) => {
      const block = await chain.getBlockByHash(h);
      return block === undefined ? null : txAt(block, index);
    }),
    eth_getTransactionByBlockNumberAndIndex: method(
      [required(blockNumberOrTag), required(uint)],
      async ([ref, index]) => {
        const block = await blockOf(chain, ref);
        return block === undefined ? null : txAt(block, index);
      },
    ),

    eth_getTransactionReceipt: method([required(hash), optional(receiptTag)], async ([h, tag]) => {
      const committed = await committedReceipt(h);
      if (committed !== undefined) return committed;
      const wantsPreconfirmed = tag === undefined ? svc.opts.preconfirmedReceipts : tag === "pending";
      if (!wantsPreconfirmed) return null;
      const pre = await chain.preconfirmed?.receipt(h);
      if (pre === undefined) return null;
      // The block committed while the prefix was read: its receipt is the answer now.
      if (pre.blockNumber <= chain.heads().latest) return (await committedReceipt(h)) ?? null;
      return preconfirmedReceiptJson(pre);
    }),
    eth_getBlockReceipts: method([required(blockRef)], async ([ref]) => {
      const block = await blockOf(chain, ref);
      if (block === undefined) return null;
      const receipts = await chain.getReceipts(block.header.hash);
      return receipts === undefined ? null : formatBlockReceipts(block, receipts);
    }),

    debug_getRawBlock: method([required(blockRef)], async ([ref]) => {
      const block = await blockOf(chain, ref);
      return block === undefined ? null : ((await chain.getRawBlock(block.header.hash)) ?? null);
    }),
    debug_getRawHeader: method([required(blockRef)], async ([ref]) => {
      const block = await blockOf(chain, ref);
      return block === undefined ? null : ((await chain.getRawHeader(block.header.hash)) ?? null);
    }),
    debug_getRawReceipts: method([required(blockRef)], async ([ref]) => {
      const block = await blockOf(chain, ref);
      return block === undefined ? null : ((await chain.getRawReceipts(block.header.hash)) ?? null);
    }),
    debug_getRawTransaction: method([required(hash)], async ([h]) => {
      const raw = await chain.getRawTransaction(h);
      // geth answers an unknown hash with "0x".
      return raw ?? "0x";
    }),
  };
}
