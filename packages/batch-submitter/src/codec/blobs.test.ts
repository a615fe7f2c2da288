import { randomBytes } from "node:crypto";
import { isDseqError } from "@dseq/common";
import { blobsToCommitments, bytesToHex, commitmentsToVersionedHashes, toBlobs } from "viem";
import { describe, expect, it } from "vitest";
import { BatchErrorCode } from "../errors.ts";
import {
  BLOB_CAPACITY,
  BYTES_PER_BLOB,
  blobCount,
  blobsToData,
  buildBlobSidecar,
  dataToBlobs,
  loadKzg,
  verifyBlobSidecar,
} from "./blobs.ts";

const code = (f: () => unknown): string => {
  try {
    f();
  } catch (err) {
    if (isDseqError(err)) return err.code;
    throw err;
  }
  throw new Error("no error");
};

describe("blobs (31/32 packing)", () => {
  it("round-trips data of every awkward length, in as few blobs as fit", () => {
    for (const n of [0, 1, 30, 31, 32, BLOB_CAPACITY - 4, BLOB_CAPACITY - 3, 2 * BLOB_CAPACITY + 17]) {
      const data = randomBytes(n);
      const blobs = dataToBlobs(data);
      expect(blobs.length).toBe(blobCount(n));
      expect(blobs.length).toBe(Math.max(1, Math.ceil((n + 4) / BLOB_CAPACITY)));
      for (const b of blobs) {
        expect(b.length).toBe(BYTES_PER_BLOB);
        for (let fe = 0; fe < 4096; fe++) expect(b[fe * 32]).toBe(0);
      }
      expect(Buffer.from(blobsToData(blobs)).equals(data)).toBe(true);
    }
  });

  it("refuses a non-zero top byte, bad length prefix, dirty padding, extra blobs and too much data", () => {
    const blobs = dataToBlobs(randomBytes(100));
    const top = blobs.map((b) => b.slice());
    top[0]![32 * 9] = 1;
    expect(code(() => blobsToData(top))).toBe(BatchErrorCode.BadBlob);
    const pad = blobs.map((b) => b.slice());
    pad[0]![32 * 100 + 5] = 1;
    expect(code(() => blobsToData(pad))).toBe(BatchErrorCode.BadBlob);
    const len = blobs.map((b) => b.slice());
    len[0]![1] = 0xff;
    expect(code(() => blobsToData(len))).toBe(BatchErrorCode.BadBlob);
    expect(code(() => blobsToData([...blobs, new Uint8Array(BYTES_PER_BLOB)]))).toBe(BatchErrorCode.BadBlob);
    expect(code(() => blobsToData([blobs[0]!.subarray(1)]))).toBe(BatchErrorCode.BadBlob);
    expect(code(() => dataToBlobs(new Uint8Array(6 * BLOB_CAPACITY)))).toBe(BatchErrorCode.BadBlob);
  });

  it("builds KZG commitments, proofs and versioned hashes that viem (c-kzg) agrees with, and verifies them", () => {
    const data = randomBytes(BLOB_CAPACITY + 1000);
    const s = buildBlobSidecar(data);
    expect(s.blobs.length).toBe(2);
    const kzg = loadKzg();
    const viemHashes = commitmentsToVersionedHashes({
      commitments: blobsToCommitments({ blobs: s.blobs.map((b) => bytesToHex(b)), kzg }),
    });
    expect(s.versionedHashes).toEqual(viemHashes);
    expect(s.versionedHashes.every((h) => h.startsWith("0x01"))).toBe(true);
    expect(Buffer.from(verifyBlobSidecar(s, s.versionedHashes)).equals(data)).toBe(true);
    // A blob changed after commitment: the proof no longer verifies.
    const tampered = { ...s, blobs: s.blobs.map((b) => b.slice()) };
    tampered.blobs[1]![1000] = tampered.blobs[1]![1000]! ^ 1;
    expect(code(() => verifyBlobSidecar(tampered, s.versionedHashes))).toBe(BatchErrorCode.BadBlob);
    // Hashes in the wrong order or of other blobs.
    expect(code(() => verifyBlobSidecar(s, [...s.versionedHashes].reverse()))).toBe(BatchErrorCode.BadBlob);
    expect(code(() => verifyBlobSidecar(s, s.versionedHashes.slice(1)))).toBe(BatchErrorCode.BadBlob);
    // viem's own packing is different (0x80 terminator); ours is not confused with it.
    expect(toBlobs({ data: bytesToHex(data) })[0]).not.toBe(bytesToHex(s.blobs[0]!));
  });
});
