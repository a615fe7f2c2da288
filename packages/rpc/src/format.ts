/**
 * execution-apis JSON shapes for blocks, transactions, receipts and logs, field for field as
 * geth's RPCMarshalBlock / newRPCTransaction / MarshalReceipt emit them.
 */
import { bigintToHex, type Hex, numberToHex } from "@dseq/common";
import type {
  AccessListEntry,
  AuthorizationData,
  BlockData,
  BlockHeaderData,
  LogData,
  ReceiptData,
  TransactionData,
  WithdrawalData,
} from "./types.ts";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const q = bigintToHex;

/** Where a transaction sits; all null for a pending transaction. */
export type TxLocation = {
  blockHash: Hex;
  blockNumber: bigint;
  blockTimestamp: bigint;
  index: number;
  baseFee?: bigint;
};

export function formatHeader(h: BlockHeaderData): JsonObject {
  const out: JsonObject = {};
  if (h.baseFeePerGas !== undefined) out.baseFeePerGas = q(h.baseFeePerGas);
  if (h.blobGasUsed !== undefined) out.blobGasUsed = q(h.blobGasUsed);
  out.difficulty = q(h.difficulty);
  if (h.excessBlobGas !== undefined) out.excessBlobGas = q(h.excessBlobGas);
  out.extraData = h.extraData;
  out.gasLimit = q(h.gasLimit);
  out.gasUsed = q(h.gasUsed);
  out.hash = h.hash;
  out.logsBloom = h.logsBloom;
  out.miner = h.miner;
  out.mixHash = h.mixHash;
  out.nonce = h.nonce;
  out.number = q(h.number);
  if (h.parentBeaconBlockRoot !== undefined) out.parentBeaconBlockRoot = h.parentBeaconBlockRoot;
  out.parentHash = h.parentHash;
  out.receiptsRoot = h.receiptsRoot;
  if (h.requestsHash !== undefined) out.requestsHash = h.requestsHash;
  out.sha3Uncles = h.sha3Uncles;
  out.stateRoot = h.stateRoot;
  out.timestamp = q(h.timestamp);
  out.transactionsRoot = h.transactionsRoot;
  if (h.withdrawalsRoot !== undefined) out.withdrawalsRoot = h.withdrawalsRoot;
  return out;
}

export function formatBlock(block: BlockData, fullTransactions: boolean): JsonObject {
  const h = block.header;
  const head = formatHeader(h);
  const out: JsonObject = {};
  // Keep geth's (alphabetical) key order: insert size/transactions/uncles/withdrawals in place.
  for (const [k, v] of Object.entries(head)) {
    if (k === "stateRoot") out.size = q(block.size);
    if (k === "transactionsRoot") {
      out.transactions = fullTransactions
        ? block.transactions.map((tx, i) =>
            formatTransaction(tx, {
              blockHash: h.hash,
              blockNumber: h.number,
              blockTimestamp: h.timestamp,
              index: i,
              ...(h.baseFeePerGas === undefined ? {} : { baseFee: h.baseFeePerGas }),
            }),
          )
        : block.transactions.map((tx) => tx.hash);
    }
    out[k] = v;
  }
  out.uncles = block.uncles;
  if (block.withdrawals !== undefined) out.withdrawals = block.withdrawals.map(formatWithdrawal);
  if (h.withdrawalsRoot !== undefined) {
    // withdrawalsRoot sorts after withdrawals in geth's output.
    delete out.withdrawalsRoot;
    out.withdrawalsRoot = h.withdrawalsRoot;
  }
  return out;
}

export function formatWithdrawal(w: WithdrawalData): JsonObject {
  return { index: q(w.index), validatorIndex: q(w.validatorIndex), address: w.address, amount: q(w.amount) };
}

function formatAccessList(list: AccessListEntry[] | undefined): Json {
  return (list ?? []).map((e) => ({ address: e.address, storageKeys: [...e.storageKeys] }));
}

function formatAuthorization(a: AuthorizationData): JsonObject {
  return {
    chainId: q(a.chainId),
    address: a.address,
    nonce: q(a.nonce),
    yParity: numberToHex(a.yParity),
    r: q(a.r),
    s: q(a.s),
  };
}

/** Effective gas price of a dynamic-fee transaction in a block with `baseFee`. */
export function effectiveGasPrice(tx: TransactionData, baseFee: bigint | undefined): bigint {
  if (tx.type < 2) return tx.gasPrice ?? 0n;
  const feeCap = tx.maxFeePerGas ?? 0n;
  if (baseFee === undefined) return feeCap;
  const price = baseFee + (tx.maxPriorityFeePerGas ?? 0n);
  return price < feeCap ? price : feeCap;
}

/** Chain id carried by a legacy transaction's `v` (EIP-155), undefined when unprotected. */
export function legacyChainId(v: bigint): bigint | undefined {
  if (v === 27n || v === 28n || v < 35n) return undefined;
  return (v - 35n) / 2n;
}

export function formatTransaction(tx: TransactionData, loc: TxLocation | undefined): JsonObject {
  const out: JsonObject = {
    blockHash: loc ? loc.blockHash : null,
    blockNumber: loc ? q(loc.blockNumber) : null,
    blockTimestamp: loc ? q(loc.blockTimestamp) : null,
    from: tx.from,
    gas: q(tx.gas),
  };
  if (tx.type < 2) {
    out.gasPrice = q(tx.gasPrice ?? 0n);
  } else {
    out.gasPrice = q(effectiveGasPrice(tx, loc?.baseFee));
    out.maxFeePerGas = q(tx.maxFeePerGas ?? 0n);
    out.maxPriorityFeePerGas = q(tx.maxPriorityFeePerGas ?? 0n);
    if (tx.type === 3) out.maxFeePerBlobGas = q(tx.maxFeePerBlobGas ?? 0n);
  }
  out.hash = tx.hash;
  out.input = tx.input;
  out.nonce = q(tx.nonce);
  out.to = tx.to;
  out.transactionIndex = loc ? numberToHex(loc.index) : null;
  out.value = q(tx.value);
  out.type = numberToHex(tx.type);
  if (tx.type === 0) {
    const chainId = legacyChainId(tx.v);
    if (chainId !== undefined) out.chainId = q(chainId);
  } else {
    out.accessList = formatAccessList(tx.accessList);
    out.chainId = q(tx.chainId ?? 0n);
    if (tx.type === 3) out.blobVersionedHashes = [...(tx.blobVersionedHashes ?? [])];
    if (tx.type === 4) out.authorizationList = (tx.authorizationList ?? []).map(formatAuthorization);
  }
  out.v = q(tx.v);
  out.r = q(tx.r);
  out.s = q(tx.s);
  if (tx.type !== 0) out.yParity = q(tx.v);
  return out;
}

export type LogLocation = {
  blockHash: Hex;
  blockNumber: bigint;
  blockTimestamp: bigint;
  transactionHash: Hex;
  transactionIndex: number;
  logIndex: number;
};

export function formatLog(log: LogData, loc: LogLocation): JsonObject {
  return {
    address: log.address,
    topics: [...log.topics],
    data: log.data,
    blockNumber: q(loc.blockNumber),
    transactionHash: loc.transactionHash,
    transactionIndex: numberToHex(loc.transactionIndex),
    blockHash: loc.blockHash,
    blockTimestamp: q(loc.blockTimestamp),
    logIndex: numberToHex(loc.logIndex),
    removed: false,
  };
}

/**
 * Receipts of one block, formatted. `firstLogIndex` lets a single-receipt lookup number its
 * logs block-wide, as geth does.
 */
export function formatReceipt(
  receipt: ReceiptData,
  tx: TransactionData,
  header: BlockHeaderData,
  index: number,
  firstLogIndex: number,
): JsonObject {
  const out: JsonObject = {};
  if (tx.type === 3) {
    out.blobGasPrice = q(receipt.blobGasPrice ?? 0n);
    out.blobGasUsed = q(receipt.blobGasUsed ?? 0n);
  }
  out.blockHash = header.hash;
  out.blockNumber = q(header.number);
  out.contractAddress = receipt.contractAddress;
  out.cumulativeGasUsed = q(receipt.cumulativeGasUsed);
  out.effectiveGasPrice = q(receipt.effectiveGasPrice);
  out.from = tx.from;
  out.gasUsed = q(receipt.gasUsed);
  out.logs = receipt.logs.map((log, i) =>
    formatLog(log, {
      blockHash: header.hash,
      blockNumber: header.number,
      blockTimestamp: header.timestamp,
      transactionHash: tx.hash,
      transactionIndex: index,
      logIndex: firstLogIndex + i,
    }),
  );
  out.logsBloom = receipt.logsBloom;
  if (receipt.root !== undefined) out.root = receipt.root;
  else out.status = q(BigInt(receipt.status ?? 0));
  out.to = tx.to;
  out.transactionHash = tx.hash;
  out.transactionIndex = numberToHex(index);
  out.type = numberToHex(tx.type);
  return out;
}

export function formatBlockReceipts(block: BlockData, receipts: ReceiptData[]): JsonObject[] {
  const out: JsonObject[] = [];
  let logIndex = 0;
  for (let i = 0; i < receipts.length; i++) {
    const r = receipts[i] as ReceiptData;
    const tx = block.transactions[i] as TransactionData;
    out.push(formatReceipt(r, tx, block.header, i, logIndex));
    logIndex += r.logs.length;
  }
  return out;
}
