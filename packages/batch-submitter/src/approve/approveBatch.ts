import { isDseqError } from "@dseq/common";
import { bytesToHex, type Hex } from "viem";
import { buildBlobSidecar } from "../codec/blobs.ts";
import { decodeBatch } from "../codec/decodeBatch.ts";
import {
  BatchDataKind,
  type BatchHeader,
  type BatchTip,
  blobHashesDigest,
  dataHashOf,
} from "../codec/header.ts";
import type { CommittedBlock } from "../codec/types.ts";

/** Why a signer refuses to sign a batch; the label of `dseq_batch_refusals_total{reason}`. */
export const RefusalReason = {
  WrongChain: "wrong_chain",
  WrongIndex: "wrong_index",
  WrongPrevHash: "wrong_prev_hash",
  WrongRange: "wrong_range",
  NotCommitted: "not_committed",
  BlockHashMismatch: "block_hash_mismatch",
  StateRootMismatch: "state_root_mismatch",
  WrongDataKind: "wrong_data_kind",
  DataHashMismatch: "data_hash_mismatch",
  BadData: "bad_data",
  DataMismatch: "data_mismatch",
} as const;
export type RefusalReason = (typeof RefusalReason)[keyof typeof RefusalReason];

/** What a coordinator asks the group to sign: the header and the batch data it commits to. */
export type SignRequest = { header: BatchHeader; data: Uint8Array };

/** The signer's own view: its chain id, the inbox tip it follows, its committed blocks of the range. */
export type OwnChain = {
  chainId: bigint;
  tip: BatchTip;
  /** Its highest committed block. */
  head: bigint;
  /** Its committed blocks header.firstBlock..min(header.lastBlock, head), in order. */
  blocks: readonly CommittedBlock[];
};

export type Approval = { ok: true } | { ok: false; reason: RefusalReason; detail: string };

const refuse = (reason: RefusalReason, detail: string): Approval => ({ ok: false, reason, detail });

/**
 * The approve policy every signer runs before its share signs: the header is rebuilt from the
 * signer's own committed chain and inbox tip, and the data must decode to exactly its own blocks.
 * Pure (no I/O); the node logs and counts every refusal.
 */
export function approveBatch(req: SignRequest, own: OwnChain): Approval {
  const h = req.header;
  if (h.chainId !== own.chainId)
    return refuse(RefusalReason.WrongChain, `chain ${h.chainId}, mine is ${own.chainId}`);
  if (h.batchIndex !== own.tip.batchIndex + 1n) {
    return refuse(RefusalReason.WrongIndex, `index ${h.batchIndex}, next is ${own.tip.batchIndex + 1n}`);
  }
  if (h.prevBatchHash.toLowerCase() !== own.tip.batchHash.toLowerCase()) {
    return refuse(
      RefusalReason.WrongPrevHash,
      `previous batch ${h.prevBatchHash}, mine is ${own.tip.batchHash}`,
    );
  }
  if (h.firstBlock !== own.tip.lastBlock + 1n || h.lastBlock < h.firstBlock) {
    return refuse(
      RefusalReason.WrongRange,
      `blocks ${h.firstBlock}..${h.lastBlock}, next is ${own.tip.lastBlock + 1n}`,
    );
  }
  if (h.lastBlock > own.head)
    return refuse(RefusalReason.NotCommitted, `block ${h.lastBlock} is above my head ${own.head}`);
  const count = Number(h.lastBlock - h.firstBlock + 1n);
  const blocks = own.blocks;
  if (blocks.length !== count || blocks.some((b, i) => b.number !== h.firstBlock + BigInt(i))) {
    return refuse(
      RefusalReason.NotCommitted,
      `my chain does not hold blocks ${h.firstBlock}..${h.lastBlock}`,
    );
  }
  const last = blocks[count - 1]!;
  if (h.lastBlockHash.toLowerCase() !== last.hash.toLowerCase()) {
    return refuse(
      RefusalReason.BlockHashMismatch,
      `block ${h.lastBlock} hash ${h.lastBlockHash}, mine is ${last.hash}`,
    );
  }
  if (h.stateRoot.toLowerCase() !== last.stateRoot.toLowerCase()) {
    return refuse(RefusalReason.StateRootMismatch, `state root ${h.stateRoot}, mine is ${last.stateRoot}`);
  }
  let dataHash: Hex;
  if (h.dataKind === BatchDataKind.calldata)
    dataHash = dataHashOf({ kind: BatchDataKind.calldata, data: req.data });
  else if (h.dataKind === BatchDataKind.blobs) {
    try {
      dataHash = blobHashesDigest(buildBlobSidecar(req.data).versionedHashes);
    } catch (err) {
      return refuse(RefusalReason.BadData, `blobs: ${String(err)}`);
    }
  } else return refuse(RefusalReason.WrongDataKind, `data kind ${h.dataKind}`);
  if (dataHash.toLowerCase() !== h.dataHash.toLowerCase()) {
    return refuse(RefusalReason.DataHashMismatch, `data hash ${h.dataHash}, the data hashes to ${dataHash}`);
  }
  let decoded: ReturnType<typeof decodeBatch>;
  try {
    decoded = decodeBatch(req.data, { chainId: own.chainId });
  } catch (err) {
    return refuse(RefusalReason.BadData, isDseqError(err) ? err.message : String(err));
  }
  if (decoded.length !== count)
    return refuse(RefusalReason.DataMismatch, `data holds ${decoded.length} blocks, the header ${count}`);
  for (let i = 0; i < count; i++) {
    const d = decoded[i]!;
    const b = blocks[i]!;
    const where = `block ${b.number}`;
    if (d.number !== b.number || d.timestamp !== b.timestamp)
      return refuse(RefusalReason.DataMismatch, `${where}: number or timestamp`);
    if (d.coinbase.toLowerCase() !== b.coinbase.toLowerCase())
      return refuse(RefusalReason.DataMismatch, `${where}: coinbase`);
    if (bytesToHex(d.extraData) !== bytesToHex(b.extraData))
      return refuse(RefusalReason.DataMismatch, `${where}: extra data`);
    if (d.transactions.length !== b.transactions.length)
      return refuse(RefusalReason.DataMismatch, `${where}: tx count`);
    if ((d.l1EntryCount ?? 0) !== (b.l1EntryCount ?? 0))
      return refuse(RefusalReason.DataMismatch, `${where}: L1 entry count`);
    for (let j = 0; j < d.transactions.length; j++) {
      if (bytesToHex(d.transactions[j]!) !== bytesToHex(b.transactions[j]!)) {
        return refuse(RefusalReason.DataMismatch, `${where}: transaction ${j}`);
      }
    }
  }
  return { ok: true };
}
