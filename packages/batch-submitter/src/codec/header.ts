import {
  BatchDataKind,
  type BatchHeader,
  batchDigest,
  batchHash,
  blobHashesDigest,
  type L1Domain,
} from "@dseq/l1-contracts";
import { type Hex, keccak256 } from "viem";
import { BatchError, BatchErrorCode } from "../errors.ts";
import type { CommittedBlock } from "./types.ts";

// The header and its hashes are BatchInbox's own (l1-contracts/messages.ts, built from the
// contract's ABI): one definition, checked against the contract's views in the tests.
export { BatchDataKind, type BatchHeader, batchDigest, batchHash, blobHashesDigest, type L1Domain };

/** The inbox tip a new batch extends: index and hash of the last batch (0 and zero hash before the first). */
export type BatchTip = { batchIndex: bigint; batchHash: Hex; lastBlock: bigint };

export type BatchData =
  | { kind: typeof BatchDataKind.calldata; data: Uint8Array }
  | { kind: typeof BatchDataKind.blobs; versionedHashes: readonly Hex[] };

/** What header.dataHash must be for this data (BatchInbox.appendBatch / appendBatchBlobs). */
export function dataHashOf(d: BatchData): Hex {
  return d.kind === BatchDataKind.calldata ? keccak256(d.data) : blobHashesDigest(d.versionedHashes);
}

/** The header of the batch that covers `blocks` after `tip`. */
export function buildBatchHeader(
  chainId: bigint,
  tip: BatchTip,
  blocks: readonly CommittedBlock[],
  d: BatchData,
): BatchHeader {
  const first = blocks[0];
  const last = blocks[blocks.length - 1];
  if (!first || !last) throw new BatchError(BatchErrorCode.BadBlocks, "a batch needs at least one block");
  if (first.number !== tip.lastBlock + 1n) {
    throw new BatchError(
      BatchErrorCode.BadBlocks,
      `batch starts at ${first.number}, the inbox expects ${tip.lastBlock + 1n}`,
    );
  }
  return {
    chainId,
    batchIndex: tip.batchIndex + 1n,
    prevBatchHash: tip.batchHash,
    firstBlock: first.number,
    lastBlock: last.number,
    lastBlockHash: last.hash,
    stateRoot: last.stateRoot,
    dataKind: d.kind,
    dataHash: dataHashOf(d),
  };
}

/** The tip after `header` lands. */
export function tipAfter(header: BatchHeader): BatchTip {
  return { batchIndex: header.batchIndex, batchHash: batchHash(header), lastBlock: header.lastBlock };
}
