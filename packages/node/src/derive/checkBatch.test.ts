import {
  type BatchBlock,
  BatchDataKind,
  type BatchHeader,
  batchHash,
  blobHashesDigest,
  buildBlobSidecar,
  encodeBatch,
} from "@dseq/batch-submitter";
import type { Hex } from "@dseq/common";
import { keccak256, toHex } from "viem";
import { describe, expect, it } from "vitest";
import {
  type BatchEvent,
  checkBatchLink,
  checkBlobs,
  checkCalldata,
  checkCallHeader,
  checkExecutedBlock,
  type DerivedTip,
  decodeBatchData,
  genesisTip,
} from "./checkBatch.ts";
import { DeriveError, DeriveErrorCode } from "./errors.ts";

const CHAIN = 901n;
const h = (s: string): Hex => keccak256(toHex(s));

// Opaque typed-transaction bytes (unknown type 0x7f): the codec keeps them raw, byte for byte.
const blocks: BatchBlock[] = [1n, 2n, 3n].map((number) => ({
  number,
  timestamp: 1_000n + number * 2n,
  coinbase: "0x00000000000000000000000000000000000000c0",
  extraData: Uint8Array.from([1, 0, 0, 0, 0]),
  transactions: [Uint8Array.from([0x7f, Number(number), 1, 2, 3])],
  l1EntryCount: number === 2n ? 1 : 0,
}));
const data = encodeBatch(blocks, { chainId: CHAIN });
const tip: DerivedTip = genesisTip(h("genesis"));

function headerFor(d: Uint8Array, over: Partial<BatchHeader> = {}): BatchHeader {
  return {
    chainId: CHAIN,
    batchIndex: 1n,
    prevBatchHash: tip.batchHash,
    firstBlock: 1n,
    lastBlock: 3n,
    lastBlockHash: h("block 3"),
    stateRoot: h("state 3"),
    dataKind: BatchDataKind.calldata,
    dataHash: keccak256(d),
    ...over,
  };
}

function eventOf(header: BatchHeader, hash = batchHash(header)): BatchEvent {
  return {
    type: "batchAppended",
    seq: 7,
    batchIndex: header.batchIndex,
    batchHash: hash,
    prevBatchHash: header.prevBatchHash,
    firstBlock: header.firstBlock,
    lastBlock: header.lastBlock,
    lastBlockHash: header.lastBlockHash,
    stateRoot: header.stateRoot,
    dataKind: header.dataKind,
    dataHash: header.dataHash,
    submitter: "0x0000000000000000000000000000000000000005",
    l1: {
      blockNumber: 10n,
      blockHash: h("l1 10"),
      logIndex: 0,
      transactionHash: h("tx"),
      address: "0x0000000000000000000000000000000000000006",
    },
  };
}

/** The DeriveError `f` throws (fails the test on anything else). */
function refusal(f: () => unknown): DeriveError {
  try {
    f();
  } catch (err) {
    if (err instanceof DeriveError) return err;
    throw err;
  }
  throw new Error("accepted");
}

describe("checkBatchLink: the batch-hash chain", () => {
  it("accepts the next batch and rebuilds the signed header", () => {
    const header = headerFor(data);
    expect(checkBatchLink(tip, eventOf(header), CHAIN)).toEqual(header);
  });

  it("refuses a skipped index, a broken prevBatchHash, a gap in the blocks and a header that does not hash to the log's batch hash", () => {
    const cases: [Partial<BatchHeader>, string][] = [
      [{ batchIndex: 2n }, "batchIndex"],
      [{ prevBatchHash: h("other batch") }, "prevBatchHash"],
      [{ firstBlock: 2n }, "firstBlock"],
    ];
    for (const [over, field] of cases) {
      const e = refusal(() => checkBatchLink(tip, eventOf(headerFor(data, over)), CHAIN));
      expect(e.code).toBe(DeriveErrorCode.BatchChain);
      expect(e.field).toBe(field);
    }
    const header = headerFor(data);
    const e = refusal(() =>
      checkBatchLink(tip, eventOf({ ...header, stateRoot: h("x") }, batchHash(header)), CHAIN),
    );
    expect([e.code, e.field, e.batchIndex]).toEqual([DeriveErrorCode.BatchChain, "batchHash", 1n]);
  });
});

describe("batch data against the signed header", () => {
  it("calldata: a tampered byte or a truncated batch fails the data hash", () => {
    const header = headerFor(data);
    expect(checkCalldata(header, data)).toBe(data);
    const tampered = data.slice();
    tampered[tampered.length - 1]! ^= 1;
    expect(refusal(() => checkCalldata(header, tampered)).code).toBe(DeriveErrorCode.DataHash);
    expect(refusal(() => checkCalldata(header, data.subarray(0, data.length - 3))).field).toBe("dataHash");
  });

  it("a truncated batch the header does commit to is refused by the decoder, not executed", () => {
    const short = data.subarray(0, data.length - 3);
    const e = refusal(() => decodeBatchData(headerFor(short), short));
    expect([e.code, e.field]).toEqual([DeriveErrorCode.BadData, "data"]);
  });

  it("decoded blocks must cover the header's range", () => {
    expect(decodeBatchData(headerFor(data), data).map((b) => b.l1EntryCount)).toEqual([0, 1, 0]);
    const e = refusal(() => decodeBatchData(headerFor(data, { lastBlock: 4n }), data));
    expect([e.code, e.field]).toEqual([DeriveErrorCode.BlockRange, "blockCount"]);
  });

  it("the L1 call's header argument must be the logged header", () => {
    const header = headerFor(data);
    checkCallHeader(header, { ...header });
    const e = refusal(() => checkCallHeader(header, { ...header, lastBlockHash: h("y") }));
    expect([e.code, e.field]).toEqual([DeriveErrorCode.HeaderMismatch, "lastBlockHash"]);
  });

  it("blobs: versioned hashes digest to dataHash, each sidecar's KZG proof holds", () => {
    const sc = buildBlobSidecar(data);
    const sidecars = sc.blobs.map((blob, k) => ({
      blob,
      commitment: sc.commitments[k]!,
      proof: sc.proofs[k]!,
    }));
    const header = headerFor(data, {
      dataKind: BatchDataKind.blobs,
      dataHash: blobHashesDigest(sc.versionedHashes),
    });
    expect(checkBlobs(header, sc.versionedHashes, sidecars)).toEqual(data);
    // A versioned hash list the header does not commit to.
    expect(refusal(() => checkBlobs(header, [h("other")], sidecars)).code).toBe(DeriveErrorCode.DataHash);
    // The beacon node has no sidecar for it (yet): retried, not a halt.
    const missing = refusal(() => checkBlobs(header, sc.versionedHashes, []));
    expect([missing.code, missing.retryable]).toEqual([DeriveErrorCode.DataUnavailable, true]);
    // A tampered blob behind the right commitment fails its proof.
    const bad = sidecars.map((s) => ({ ...s, blob: s.blob.slice() }));
    bad[0]!.blob[100]! ^= 1;
    expect(refusal(() => checkBlobs(header, sc.versionedHashes, bad)).code).toBe(DeriveErrorCode.BadBlob);
  });
});

describe("checkExecutedBlock: re-execution against the header", () => {
  const header = headerFor(data);
  const ok = { number: 3n, hash: header.lastBlockHash, stateRoot: header.stateRoot, txCount: 1, skipped: [] };

  it("accepts the signed last block hash and state root", () => {
    checkExecutedBlock(header, blocks[2]!, ok);
  });

  it("names batch, block and field of a wrong state root, a wrong block hash, a skipped transaction", () => {
    const root = refusal(() => checkExecutedBlock(header, blocks[2]!, { ...ok, stateRoot: h("other root") }));
    expect([root.code, root.batchIndex, root.block, root.field]).toEqual([
      DeriveErrorCode.StateRoot,
      1n,
      3n,
      "stateRoot",
    ]);
    expect(root.message).toMatch(/^batch 1, block 3, stateRoot: expected 0x/);
    const hash = refusal(() => checkExecutedBlock(header, blocks[2]!, { ...ok, hash: h("other") }));
    expect([hash.code, hash.field]).toEqual([DeriveErrorCode.BlockHash, "lastBlockHash"]);
    const skipped = refusal(() =>
      checkExecutedBlock(header, blocks[1]!, {
        ...ok,
        number: 2n,
        txCount: 0,
        skipped: [{ index: 0, reason: "nonce_too_low" }],
      }),
    );
    expect([skipped.code, skipped.block, skipped.field]).toEqual([
      DeriveErrorCode.TxSkipped,
      2n,
      "transactions[0]",
    ]);
  });
});
