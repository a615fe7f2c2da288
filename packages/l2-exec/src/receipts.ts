import type { Block } from "@ethereumjs/block";
import { RLP } from "@ethereumjs/rlp";
import type { TypedTransaction } from "@ethereumjs/tx";
import { bytesToBigInt, bytesToHex, createContractAddress } from "@ethereumjs/util";
import type { IncludedTx } from "./execute.ts";

export type Hex = `0x${string}`;

/** A log as the RPC layer serves it. */
export type LogInfo = {
  address: Hex;
  topics: Hex[];
  data: Hex;
  blockNumber: bigint;
  blockHash: Hex;
  blockTimestamp: bigint;
  transactionHash: Hex;
  transactionIndex: number;
  logIndex: number;
  removed: false;
};

/** A receipt with every derived field `eth_getTransactionReceipt` needs. */
export type ReceiptInfo = {
  type: number;
  transactionHash: Hex;
  transactionIndex: number;
  blockHash: Hex;
  blockNumber: bigint;
  from: Hex;
  to: Hex | null;
  contractAddress: Hex | null;
  /** Post-Byzantium status; pre-Byzantium receipts carry `root` instead. */
  status?: 0 | 1;
  root?: Hex;
  cumulativeGasUsed: bigint;
  gasUsed: bigint;
  effectiveGasPrice: bigint;
  blobGasUsed?: bigint;
  blobGasPrice?: bigint;
  logsBloom: Hex;
  logs: LogInfo[];
};

export type RawReceipt = {
  type: number;
  statusOrRoot: Uint8Array;
  cumulativeGasUsed: bigint;
  bloom: Uint8Array;
  logs: [Uint8Array, Uint8Array[], Uint8Array][];
};

/** Decodes one consensus-encoded receipt (`encodeReceipt` output). */
export function decodeReceipt(enc: Uint8Array): RawReceipt {
  const typed = (enc[0] as number) < 0xc0;
  const body = typed ? enc.subarray(1) : enc;
  const [statusOrRoot, cumulative, bloom, logs] = RLP.decode(body) as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    [Uint8Array, Uint8Array[], Uint8Array][],
  ];
  return {
    type: typed ? (enc[0] as number) : 0,
    statusOrRoot,
    cumulativeGasUsed: bytesToBigInt(cumulative),
    bloom,
    logs,
  };
}

export function effectiveGasPrice(tx: TypedTransaction, baseFee: bigint | undefined): bigint {
  if ("maxFeePerGas" in tx) {
    const t = tx as unknown as { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
    const b = baseFee ?? 0n;
    const tip = t.maxFeePerGas - b < t.maxPriorityFeePerGas ? t.maxFeePerGas - b : t.maxPriorityFeePerGas;
    return b + tip;
  }
  return (tx as unknown as { gasPrice: bigint }).gasPrice;
}

/** Receipts of `block` enriched with tx, block and log positions. */
export function enrichReceipts(block: Block, encoded: Uint8Array[], firstLogIndex = 0): ReceiptInfo[] {
  const out: ReceiptInfo[] = [];
  const blockHash = bytesToHex(block.hash());
  const header = block.header;
  let prevCumulative = 0n;
  let logIndex = firstLogIndex;
  const blobGasPrice = header.excessBlobGas !== undefined ? header.getBlobGasPrice() : undefined;
  for (let i = 0; i < encoded.length; i++) {
    const raw = decodeReceipt(encoded[i] as Uint8Array);
    const tx = block.transactions[i] as TypedTransaction;
    const from = tx.getSenderAddress();
    const txHash = bytesToHex(tx.hash());
    const logs: LogInfo[] = raw.logs.map(([address, topics, data]) => ({
      address: bytesToHex(address),
      topics: topics.map((topic) => bytesToHex(topic)),
      data: bytesToHex(data),
      blockNumber: header.number,
      blockHash,
      blockTimestamp: header.timestamp,
      transactionHash: txHash,
      transactionIndex: i,
      logIndex: logIndex++,
      removed: false,
    }));
    const r: ReceiptInfo = {
      type: tx.type,
      transactionHash: txHash,
      transactionIndex: i,
      blockHash,
      blockNumber: header.number,
      from: from.toString() as Hex,
      to: tx.to !== undefined ? (tx.to.toString() as Hex) : null,
      contractAddress: tx.to === undefined ? (createContractAddress(from, tx.nonce).toString() as Hex) : null,
      cumulativeGasUsed: raw.cumulativeGasUsed,
      gasUsed: raw.cumulativeGasUsed - prevCumulative,
      effectiveGasPrice: effectiveGasPrice(tx, header.baseFeePerGas),
      logsBloom: bytesToHex(raw.bloom),
      logs,
    };
    if (raw.statusOrRoot.length === 32) r.root = bytesToHex(raw.statusOrRoot);
    else r.status = raw.statusOrRoot.length > 0 && raw.statusOrRoot[0] === 1 ? 1 : 0;
    if (tx.type === 3 && blobGasPrice !== undefined) {
      const n = BigInt((tx as unknown as { blobVersionedHashes: unknown[] }).blobVersionedHashes.length);
      r.blobGasUsed = n * tx.common.param("blobGasPerBlob");
      r.blobGasPrice = blobGasPrice;
    }
    prevCumulative = raw.cumulativeGasUsed;
    out.push(r);
  }
  return out;
}

/** A receipt of a transaction a build just included (ADR 0175): no block hash or log positions yet. */
export type PendingReceipt = Pick<
  ReceiptInfo,
  | "type"
  | "transactionHash"
  | "transactionIndex"
  | "from"
  | "to"
  | "contractAddress"
  | "status"
  | "cumulativeGasUsed"
  | "gasUsed"
  | "effectiveGasPrice"
  | "logsBloom"
> & { logs: { address: Hex; topics: Hex[]; data: Hex }[]; firstLogIndex: number };

/** The receipt `IncludedTx` carries, with the fields `enrichReceipts` derives for a committed one. */
export function pendingReceipt(x: IncludedTx): PendingReceipt {
  const { tx, receipt } = x;
  const from = tx.getSenderAddress();
  const out: PendingReceipt = {
    type: tx.type,
    transactionHash: bytesToHex(tx.hash()),
    transactionIndex: x.index,
    from: from.toString() as Hex,
    to: tx.to !== undefined ? (tx.to.toString() as Hex) : null,
    contractAddress: tx.to === undefined ? (createContractAddress(from, tx.nonce).toString() as Hex) : null,
    cumulativeGasUsed: receipt.cumulativeBlockGasUsed,
    gasUsed: x.gasUsed,
    effectiveGasPrice: effectiveGasPrice(tx, x.baseFee),
    logsBloom: bytesToHex(receipt.bitvector),
    logs: receipt.logs.map(([address, topics, data]) => ({
      address: bytesToHex(address),
      topics: topics.map((t) => bytesToHex(t)),
      data: bytesToHex(data),
    })),
    firstLogIndex: x.firstLogIndex,
  };
  if ("status" in receipt) out.status = receipt.status;
  return out;
}
