import type { Hex } from "@dseq/common";
import type { PendingReceipt } from "@dseq/l2-exec";
import {
  type Address,
  type BlockHeaderData,
  formatReceipt,
  type JsonObject,
  type ReceiptData,
  type TransactionData,
} from "@dseq/rpc";

/**
 * A preconfirmed receipt as JSON (ADR 0175): `formatReceipt`'s output for the committed receipt,
 * field for field, except `blockHash` (null in the receipt and its logs: the block is not sealed).
 * Only the fields a receipt reads from its transaction are filled in the transaction stand-in.
 */
export function preconfReceiptJson(r: PendingReceipt, blockNumber: bigint, timestamp: bigint): JsonObject {
  const data: ReceiptData = {
    cumulativeGasUsed: r.cumulativeGasUsed,
    gasUsed: r.gasUsed,
    logsBloom: r.logsBloom,
    logs: r.logs,
    contractAddress: r.contractAddress as Address | null,
    effectiveGasPrice: r.effectiveGasPrice,
    ...(r.status !== undefined ? { status: r.status } : {}),
  };
  const tx = { type: r.type, hash: r.transactionHash, from: r.from, to: r.to } as TransactionData;
  const header = { hash: null as unknown as Hex, number: blockNumber, timestamp } as BlockHeaderData;
  return formatReceipt(data, tx, header, r.transactionIndex, r.firstLogIndex);
}
