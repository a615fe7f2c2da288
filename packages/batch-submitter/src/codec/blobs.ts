// EIP-4844 blobs for batch data: 31 bytes per 32-byte field element (the top byte stays zero, so
// every element is below the BLS modulus), a 4-byte big-endian length first, zero padding after.
import { createHash } from "node:crypto";
import cKzg from "c-kzg";
import { bytesToHex, type Hex, type Kzg } from "viem";
import { BatchError, BatchErrorCode } from "../errors.ts";

export const BYTES_PER_BLOB = 131_072;
export const FIELD_ELEMENTS_PER_BLOB = 4096;
/** Payload bytes one blob carries. */
export const BLOB_CAPACITY = FIELD_ELEMENTS_PER_BLOB * 31;
/** EIP-4844's per-transaction limit (Prague raises the block target; a tx carries at most 6). */
export const MAX_BLOBS_PER_TX = 6;
const LENGTH_PREFIX = 4;
const VERSIONED_HASH_VERSION_KZG = 0x01;

const badBlob = (message: string, details?: Record<string, unknown>) =>
  new BatchError(BatchErrorCode.BadBlob, message, details ? { details } : {});

/** How many blobs `dataLength` bytes of batch data need. */
export function blobCount(dataLength: number): number {
  return Math.max(1, Math.ceil((dataLength + LENGTH_PREFIX) / BLOB_CAPACITY));
}

/** Packs batch data into blobs (31/32). */
export function dataToBlobs(data: Uint8Array, maxBlobs = MAX_BLOBS_PER_TX): Uint8Array[] {
  const n = blobCount(data.length);
  if (n > maxBlobs) throw badBlob(`${data.length} bytes need ${n} blobs, more than ${maxBlobs}`);
  const stream = new Uint8Array(LENGTH_PREFIX + data.length);
  new DataView(stream.buffer).setUint32(0, data.length);
  stream.set(data, LENGTH_PREFIX);
  const blobs = Array.from({ length: n }, () => new Uint8Array(BYTES_PER_BLOB));
  for (let off = 0, fe = 0; off < stream.length; off += 31, fe++) {
    const blob = blobs[Math.floor(fe / FIELD_ELEMENTS_PER_BLOB)]!;
    blob.set(stream.subarray(off, off + 31), (fe % FIELD_ELEMENTS_PER_BLOB) * 32 + 1);
  }
  return blobs;
}

/** Unpacks blobs (hostile): every element's top byte zero, the length in bounds, the padding zero. */
export function blobsToData(blobs: readonly Uint8Array[], maxBlobs = MAX_BLOBS_PER_TX): Uint8Array {
  if (blobs.length === 0 || blobs.length > maxBlobs)
    throw badBlob(`${blobs.length} blobs, expected 1..${maxBlobs}`);
  const stream = new Uint8Array(blobs.length * BLOB_CAPACITY);
  blobs.forEach((blob, b) => {
    if (blob.length !== BYTES_PER_BLOB)
      throw badBlob(`blob ${b} has ${blob.length} bytes, expected ${BYTES_PER_BLOB}`);
    for (let fe = 0; fe < FIELD_ELEMENTS_PER_BLOB; fe++) {
      if (blob[fe * 32] !== 0) throw badBlob(`blob ${b} field element ${fe} has a non-zero top byte`);
      stream.set(blob.subarray(fe * 32 + 1, fe * 32 + 32), (b * FIELD_ELEMENTS_PER_BLOB + fe) * 31);
    }
  });
  const len = new DataView(stream.buffer).getUint32(0);
  if (len + LENGTH_PREFIX > stream.length)
    throw badBlob(`blob length prefix ${len} exceeds the blobs' capacity`);
  if (blobCount(len) !== blobs.length)
    throw badBlob(`${blobs.length} blobs for ${len} bytes (expected ${blobCount(len)})`);
  const end = LENGTH_PREFIX + len;
  for (let i = end; i < stream.length; i++) {
    if (stream[i] !== 0) throw badBlob(`non-zero padding after the blob data at byte ${i}`);
  }
  return stream.slice(LENGTH_PREFIX, end);
}

let setupLoaded = false;

/** c-kzg with Ethereum's mainnet trusted setup (bundled), loaded once per process. */
export function loadKzg(): Kzg & { verifyBlobKzgProofBatch: typeof cKzg.verifyBlobKzgProofBatch } {
  if (!setupLoaded) {
    try {
      cKzg.loadTrustedSetup(0);
    } catch (err) {
      // Another module of the process (same native binding) loaded it first.
      if (!/already loaded/i.test(String(err))) throw err;
    }
    setupLoaded = true;
  }
  return {
    blobToKzgCommitment: cKzg.blobToKzgCommitment,
    computeBlobKzgProof: cKzg.computeBlobKzgProof,
    verifyBlobKzgProofBatch: cKzg.verifyBlobKzgProofBatch,
  };
}

/** EIP-4844 versioned hash: 0x01 || sha256(commitment)[1:]. */
export function commitmentToVersionedHash(commitment: Uint8Array): Hex {
  const h = createHash("sha256").update(commitment).digest();
  h[0] = VERSIONED_HASH_VERSION_KZG;
  return bytesToHex(h);
}

export type BlobSidecar = {
  blobs: Uint8Array[];
  commitments: Uint8Array[];
  proofs: Uint8Array[];
  versionedHashes: Hex[];
};

/** Blobs, their KZG commitments and proofs, and versioned hashes for a blob batch. */
export function buildBlobSidecar(data: Uint8Array, maxBlobs = MAX_BLOBS_PER_TX): BlobSidecar {
  const kzg = loadKzg();
  const blobs = dataToBlobs(data, maxBlobs);
  const commitments = blobs.map((b) => kzg.blobToKzgCommitment(b));
  const proofs = blobs.map((b, i) => kzg.computeBlobKzgProof(b, commitments[i]!));
  return { blobs, commitments, proofs, versionedHashes: commitments.map(commitmentToVersionedHash) };
}

/**
 * The verifier's side: checks blobs fetched from a blob source against the versioned hashes of
 * the L1 transaction (commitment → hash, KZG proof), then unpacks them.
 */
export function verifyBlobSidecar(
  sidecar: {
    blobs: readonly Uint8Array[];
    commitments: readonly Uint8Array[];
    proofs: readonly Uint8Array[];
  },
  versionedHashes: readonly Hex[],
): Uint8Array {
  const { blobs, commitments, proofs } = sidecar;
  if (
    blobs.length !== versionedHashes.length ||
    commitments.length !== blobs.length ||
    proofs.length !== blobs.length
  ) {
    throw badBlob(`sidecar of ${blobs.length} blobs for ${versionedHashes.length} versioned hashes`);
  }
  commitments.forEach((c, i) => {
    if (c.length !== 48 || commitmentToVersionedHash(c) !== versionedHashes[i]!.toLowerCase()) {
      throw badBlob(`blob ${i}: commitment does not match versioned hash ${versionedHashes[i]}`);
    }
  });
  const kzg = loadKzg();
  let ok = false;
  try {
    ok = kzg.verifyBlobKzgProofBatch(
      blobs as Uint8Array[],
      commitments as Uint8Array[],
      proofs as Uint8Array[],
    );
  } catch (err) {
    throw badBlob("blob KZG proof check failed", { cause: String(err) });
  }
  if (!ok) throw badBlob("blob KZG proofs do not verify");
  return blobsToData(blobs);
}
