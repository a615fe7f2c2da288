import {
  type BatchBlock,
  BatchDataKind,
  type BatchHeader,
  batchHash,
  blobHashesDigest,
  commitmentToVersionedHash,
  decodeBatch,
  verifyBlobSidecar,
} from "@dseq/batch-submitter";
import type { Hex } from "@dseq/common";
import type { L1Event } from "@dseq/l1-bridge-listener";
import { keccak256 } from "viem";
import { DeriveError, DeriveErrorCode } from "./errors.ts";

export type BatchEvent = Extract<L1Event, { type: "batchAppended" }>;

/** Where derivation stands: the last batch derived and checked, and what the next one must continue. */
export type DerivedTip = {
  batchIndex: bigint;
  batchHash: Hex;
  lastBlock: bigint;
  lastBlockHash: Hex;
  /** L1 block of the last batch (0 before the first). */
  l1Block: bigint;
  /** Index after the last L1 entry the derived chain holds. */
  nextEntry: bigint;
};

export const ZERO_HASH: Hex = `0x${"00".repeat(32)}`;

export function genesisTip(genesisHash: Hex): DerivedTip {
  return {
    batchIndex: 0n,
    batchHash: ZERO_HASH,
    lastBlock: 0n,
    lastBlockHash: genesisHash,
    l1Block: 0n,
    nextEntry: 0n,
  };
}

const lower = (h: string): string => h.toLowerCase();

function fail(
  code: DeriveErrorCode,
  batchIndex: bigint,
  field: string,
  expected: unknown,
  actual: unknown,
  block?: bigint,
): never {
  const e = String(expected);
  const a = String(actual);
  throw new DeriveError(code, `expected ${e}, got ${a}`, {
    batchIndex,
    field,
    expected: e,
    actual: a,
    ...(block === undefined ? {} : { block }),
  });
}

/**
 * The signed header a BatchAppended log stands for, checked to continue `tip` (pure): next index,
 * previous batch hash, the next block range, and the log's batch hash equal to the header's own.
 */
export function checkBatchLink(tip: DerivedTip, ev: BatchEvent, chainId: bigint): BatchHeader {
  const i = ev.batchIndex;
  const header: BatchHeader = {
    chainId,
    batchIndex: ev.batchIndex,
    prevBatchHash: ev.prevBatchHash,
    firstBlock: ev.firstBlock,
    lastBlock: ev.lastBlock,
    lastBlockHash: ev.lastBlockHash,
    stateRoot: ev.stateRoot,
    dataKind: ev.dataKind as BatchHeader["dataKind"],
    dataHash: ev.dataHash,
  };
  if (i !== tip.batchIndex + 1n) fail(DeriveErrorCode.BatchChain, i, "batchIndex", tip.batchIndex + 1n, i);
  if (lower(ev.prevBatchHash) !== lower(tip.batchHash))
    fail(DeriveErrorCode.BatchChain, i, "prevBatchHash", tip.batchHash, ev.prevBatchHash);
  if (ev.firstBlock !== tip.lastBlock + 1n)
    fail(DeriveErrorCode.BatchChain, i, "firstBlock", tip.lastBlock + 1n, ev.firstBlock);
  if (ev.lastBlock < ev.firstBlock)
    fail(DeriveErrorCode.BatchChain, i, "lastBlock", `>= ${ev.firstBlock}`, ev.lastBlock);
  if (ev.dataKind !== BatchDataKind.calldata && ev.dataKind !== BatchDataKind.blobs)
    fail(DeriveErrorCode.BatchChain, i, "dataKind", "0 or 1", ev.dataKind);
  const own = batchHash(header);
  if (lower(own) !== lower(ev.batchHash)) fail(DeriveErrorCode.BatchChain, i, "batchHash", own, ev.batchHash);
  return header;
}

const HEADER_FIELDS = [
  "chainId",
  "batchIndex",
  "prevBatchHash",
  "firstBlock",
  "lastBlock",
  "lastBlockHash",
  "stateRoot",
  "dataKind",
  "dataHash",
] as const;

/** The header argument of the L1 call equals the logged header, field by field. */
export function checkCallHeader(header: BatchHeader, called: Record<string, unknown>): void {
  for (const f of HEADER_FIELDS) {
    const want = header[f];
    const got = called[f];
    const same =
      typeof want === "string"
        ? typeof got === "string" && lower(got) === lower(want)
        : BigInt(got as never) === BigInt(want);
    if (!same) fail(DeriveErrorCode.HeaderMismatch, header.batchIndex, f, want, got);
  }
}

/** Calldata batch: the data must hash to the signed header's dataHash. */
export function checkCalldata(header: BatchHeader, data: Uint8Array): Uint8Array {
  const h = keccak256(data);
  if (lower(h) !== lower(header.dataHash))
    fail(DeriveErrorCode.DataHash, header.batchIndex, "dataHash", header.dataHash, h);
  return data;
}

/** One blob sidecar as a beacon node serves it (bytes already hex-decoded and size-checked). */
export type BlobSidecarView = { blob: Uint8Array; commitment: Uint8Array; proof: Uint8Array };

/**
 * Blob batch: the transaction's versioned hashes must digest to dataHash, and each is matched to
 * a sidecar of the L1 block whose commitment hashes to it and whose KZG proof holds. Returns the
 * batch data the blobs carry.
 */
export function checkBlobs(
  header: BatchHeader,
  versionedHashes: readonly Hex[],
  sidecars: readonly BlobSidecarView[],
): Uint8Array {
  const i = header.batchIndex;
  if (versionedHashes.length === 0)
    fail(DeriveErrorCode.DataHash, i, "blobVersionedHashes", "at least one", 0);
  const digest = blobHashesDigest(versionedHashes);
  if (lower(digest) !== lower(header.dataHash))
    fail(DeriveErrorCode.DataHash, i, "dataHash", header.dataHash, digest);
  const byHash = new Map<string, BlobSidecarView>();
  for (const s of sidecars) byHash.set(lower(commitmentToVersionedHash(s.commitment)), s);
  const picked = versionedHashes.map((vh) => {
    const s = byHash.get(lower(vh));
    if (!s) {
      throw new DeriveError(DeriveErrorCode.DataUnavailable, `no sidecar for versioned hash ${vh}`, {
        batchIndex: i,
        field: "blobSidecars",
      });
    }
    return s;
  });
  try {
    return verifyBlobSidecar(
      {
        blobs: picked.map((s) => s.blob),
        commitments: picked.map((s) => s.commitment),
        proofs: picked.map((s) => s.proof),
      },
      versionedHashes,
    );
  } catch (err) {
    throw new DeriveError(
      DeriveErrorCode.BadBlob,
      (err as Error).message,
      { batchIndex: i, field: "blobs" },
      err,
    );
  }
}

/** Decodes checked batch data strictly and checks it covers the header's range. */
export function decodeBatchData(header: BatchHeader, data: Uint8Array): BatchBlock[] {
  let blocks: BatchBlock[];
  try {
    blocks = decodeBatch(data, { chainId: header.chainId });
  } catch (err) {
    throw new DeriveError(
      DeriveErrorCode.BadData,
      (err as Error).message,
      { batchIndex: header.batchIndex, field: "data" },
      err,
    );
  }
  checkBlockRange(header, blocks);
  return blocks;
}

/** The decoded blocks are exactly the header's range, in order. */
export function checkBlockRange(header: BatchHeader, blocks: readonly BatchBlock[]): void {
  const want = header.lastBlock - header.firstBlock + 1n;
  if (BigInt(blocks.length) !== want)
    fail(DeriveErrorCode.BlockRange, header.batchIndex, "blockCount", want, blocks.length);
  blocks.forEach((b, k) => {
    const n = header.firstBlock + BigInt(k);
    if (b.number !== n) fail(DeriveErrorCode.BlockRange, header.batchIndex, "number", n, b.number, n);
  });
}

/** What re-executing one block gave. */
export type ExecutedBlock = {
  number: bigint;
  hash: Hex;
  stateRoot: Hex;
  txCount: number;
  skipped: readonly { index: number; reason: string }[];
};

/**
 * A re-executed block against its batch: no transaction skipped (the signed block ran them all),
 * and for the batch's last block the hash and state root the header commits to. Every earlier
 * block hash is fixed by the parent links up to the last one.
 */
export function checkExecutedBlock(header: BatchHeader, b: BatchBlock, ex: ExecutedBlock): void {
  const i = header.batchIndex;
  const first = ex.skipped[0];
  if (first) {
    fail(DeriveErrorCode.TxSkipped, i, `transactions[${first.index}]`, "executed", first.reason, b.number);
  }
  if (ex.txCount !== b.transactions.length)
    fail(DeriveErrorCode.TxSkipped, i, "txCount", b.transactions.length, ex.txCount, b.number);
  if (b.number !== header.lastBlock) return;
  if (lower(ex.hash) !== lower(header.lastBlockHash))
    fail(DeriveErrorCode.BlockHash, i, "lastBlockHash", header.lastBlockHash, ex.hash, b.number);
  if (lower(ex.stateRoot) !== lower(header.stateRoot))
    fail(DeriveErrorCode.StateRoot, i, "stateRoot", header.stateRoot, ex.stateRoot, b.number);
}
