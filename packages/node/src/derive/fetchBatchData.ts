import type { BatchHeader } from "@dseq/batch-submitter";
import { BatchDataKind } from "@dseq/batch-submitter";
import type { Hex } from "@dseq/common";
import { decodeFunctionData, hexToBytes, parseAbi } from "viem";
import {
  type BatchEvent,
  type BlobSidecarView,
  checkBlobs,
  checkCalldata,
  checkCallHeader,
} from "./checkBatch.ts";
import { DeriveError, DeriveErrorCode } from "./errors.ts";

/** The two BatchInbox calls a batch arrives in (the consumer's own view of the ABI; ADR 0180). */
export const inboxCallAbi = parseAbi([
  "struct BatchHeader { uint64 chainId; uint64 batchIndex; bytes32 prevBatchHash; uint64 firstBlock; uint64 lastBlock; bytes32 lastBlockHash; bytes32 stateRoot; uint8 dataKind; bytes32 dataHash; }",
  "function appendBatch(BatchHeader header, bytes data, bytes signature)",
  "function appendBatchBlobs(BatchHeader header, bytes signature)",
]);

/** What derivation reads of an L1 transaction. */
export type L1TxView = { to: Hex | null; input: Hex; blobVersionedHashes?: readonly Hex[] | undefined };

/** The L1 reads derivation needs (viem's public client fits). */
export type L1TxSource = { getTransaction(args: { hash: Hex }): Promise<L1TxView> };

/** Blob sidecars of one L1 block (a beacon API, `/eth/v1/beacon/blob_sidecars/{block_id}`). */
export type BlobSource = {
  sidecars(l1Block: { number: bigint; hash: Hex }): Promise<BlobSidecarView[]>;
};

export type FetchBatchDataCtx = { l1: L1TxSource; blobs: BlobSource | undefined; inbox: Hex };

const unavailable = (header: BatchHeader, field: string, err: unknown): DeriveError =>
  err instanceof DeriveError
    ? err
    : new DeriveError(
        DeriveErrorCode.DataUnavailable,
        (err as Error).message ?? String(err),
        { batchIndex: header.batchIndex, field },
        err,
      );

/**
 * The batch data of a BatchAppended log, checked against the signed header: the transaction that
 * emitted it must be a direct BatchInbox call carrying the same header; calldata must hash to
 * dataHash, blobs come from the blob source and must match the transaction's versioned hashes.
 */
export async function fetchBatchData(
  ctx: FetchBatchDataCtx,
  header: BatchHeader,
  ev: BatchEvent,
): Promise<Uint8Array> {
  let tx: L1TxView;
  try {
    tx = await ctx.l1.getTransaction({ hash: ev.l1.transactionHash });
  } catch (err) {
    throw unavailable(header, "transaction", err);
  }
  const i = header.batchIndex;
  if (tx.to === null || tx.to.toLowerCase() !== ctx.inbox.toLowerCase()) {
    // A batch appended through another contract: its data is not in this transaction's input.
    throw new DeriveError(
      DeriveErrorCode.HeaderMismatch,
      "the batch transaction does not call the inbox directly",
      {
        batchIndex: i,
        field: "to",
        expected: ctx.inbox,
        actual: String(tx.to),
      },
    );
  }
  let call: ReturnType<typeof decodeFunctionData<typeof inboxCallAbi>>;
  try {
    call = decodeFunctionData({ abi: inboxCallAbi, data: tx.input });
  } catch (err) {
    throw new DeriveError(DeriveErrorCode.BadData, `undecodable inbox call: ${(err as Error).message}`, {
      batchIndex: i,
      field: "input",
    });
  }
  const wantFn = header.dataKind === BatchDataKind.calldata ? "appendBatch" : "appendBatchBlobs";
  if (call.functionName !== wantFn) {
    throw new DeriveError(DeriveErrorCode.HeaderMismatch, `called ${call.functionName}`, {
      batchIndex: i,
      field: "function",
      expected: wantFn,
      actual: call.functionName,
    });
  }
  checkCallHeader(header, call.args[0] as Record<string, unknown>);
  if (call.functionName === "appendBatch") return checkCalldata(header, hexToBytes(call.args[1]));
  if (!ctx.blobs) {
    throw new DeriveError(DeriveErrorCode.DataUnavailable, "a blob batch and no blob source configured", {
      batchIndex: i,
      field: "blobSidecars",
    });
  }
  let sidecars: BlobSidecarView[];
  try {
    sidecars = await ctx.blobs.sidecars({ number: ev.l1.blockNumber, hash: ev.l1.blockHash });
  } catch (err) {
    throw unavailable(header, "blobSidecars", err);
  }
  return checkBlobs(header, tx.blobVersionedHashes ?? [], sidecars);
}
