import type { Hex } from "@dseq/common";
import { hexToBytes } from "viem";
import type { BlobSidecarView } from "./checkBatch.ts";
import type { BlobSource } from "./fetchBatchData.ts";

const BYTES_PER_BLOB = 131_072;
const KZG_BYTES = 48;

export type BeaconBlobSourceOptions = {
  /** Beacon API base URL (`http://127.0.0.1:5052`). */
  url: string;
  /**
   * The beacon `block_id` of an L1 block. Default: the block number (the devnet's blob server
   * numbers slots by L1 block); a real network passes `(timestamp - genesisTime) / 12` or the
   * parent beacon block root of the next block.
   */
  blockId?: (l1Block: { number: bigint; hash: Hex }) => string;
  /** Most sidecars one answer may hold (default 64). */
  maxSidecars?: number;
  timeoutMs?: number;
};

export class BeaconBlobError extends Error {
  override name = "BeaconBlobError";
}

/** Reads a body up to `max` bytes; a longer one is refused without buffering it. */
async function readBounded(res: Response, max: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return "";
  const parts: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > max) {
      await reader.cancel();
      throw new BeaconBlobError(`beacon answer over ${max} bytes`);
    }
    parts.push(value);
  }
  return Buffer.concat(parts).toString("utf8");
}

function hexField(v: unknown, bytes: number, what: string): Uint8Array {
  if (typeof v !== "string" || v.length !== 2 + 2 * bytes || !/^0x[0-9a-fA-F]*$/.test(v))
    throw new BeaconBlobError(`${what}: not ${bytes} hex bytes`);
  return hexToBytes(v as Hex);
}

/** Parses a beacon `blob_sidecars` answer strictly (hostile input). */
export function parseBlobSidecars(text: string, maxSidecars: number): BlobSidecarView[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BeaconBlobError("beacon answer is not JSON");
  }
  const data = (body as { data?: unknown })?.data;
  if (!Array.isArray(data)) throw new BeaconBlobError("beacon answer has no data array");
  if (data.length > maxSidecars) throw new BeaconBlobError(`${data.length} sidecars, over ${maxSidecars}`);
  return data.map((s: Record<string, unknown>, k) => ({
    blob: hexField(s?.blob, BYTES_PER_BLOB, `sidecar ${k} blob`),
    commitment: hexField(s?.kzg_commitment, KZG_BYTES, `sidecar ${k} kzg_commitment`),
    proof: hexField(s?.kzg_proof, KZG_BYTES, `sidecar ${k} kzg_proof`),
  }));
}

/** A blob source over a beacon node's `GET /eth/v1/beacon/blob_sidecars/{block_id}`. */
export function createBeaconBlobSource(opts: BeaconBlobSourceOptions): BlobSource {
  const max = opts.maxSidecars ?? 64;
  const blockId = opts.blockId ?? ((b) => b.number.toString());
  const base = opts.url.replace(/\/+$/, "");
  return {
    async sidecars(l1Block) {
      const res = await fetch(`${base}/eth/v1/beacon/blob_sidecars/${encodeURIComponent(blockId(l1Block))}`, {
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
        headers: { accept: "application/json" },
      });
      // Each sidecar is a blob in hex plus a few hundred bytes of fields.
      const text = await readBounded(res, max * (2 * BYTES_PER_BLOB + 4096) + 4096);
      if (res.status === 404) return [];
      if (!res.ok) throw new BeaconBlobError(`beacon answered ${res.status}`);
      return parseBlobSidecars(text, max);
    },
  };
}
