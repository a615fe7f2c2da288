// The submitter's only durable state: the batch in flight (header, data, signature and every
// transaction sent for it). Written atomically (temp file, fsync, rename) before each send, so a
// restart resumes the same batch with the same nonce instead of signing or posting it twice.
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { bytesToHex, type Hex, hexToBytes } from "viem";
import type { BatchHeader } from "../codec/header.ts";
import { BatchError, BatchErrorCode } from "../errors.ts";

export type SentTx = {
  hash: Hex;
  gas: bigint;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
  maxFeePerBlobGas?: bigint;
  sentAtMs: number;
};

export type InFlight = {
  header: BatchHeader;
  data: Uint8Array;
  signature: Hex;
  nonce: number;
  txs: SentTx[];
};

export type SubmitterState = { version: 1; inFlight?: InFlight };

const FILE = "batch-submitter.json";

const big = (_: string, v: unknown) =>
  typeof v === "bigint" ? { $big: v.toString() } : v instanceof Uint8Array ? { $bytes: bytesToHex(v) } : v;
const unbig = (_: string, v: unknown) => {
  if (v && typeof v === "object" && "$big" in v) return BigInt((v as { $big: string }).$big);
  if (v && typeof v === "object" && "$bytes" in v) return hexToBytes((v as { $bytes: Hex }).$bytes);
  return v;
};

export function loadSubmitterState(dir: string): SubmitterState {
  const path = join(dir, FILE);
  if (!existsSync(path)) return { version: 1 };
  let s: SubmitterState;
  try {
    s = JSON.parse(readFileSync(path, "utf8"), unbig) as SubmitterState;
  } catch (err) {
    throw new BatchError(BatchErrorCode.BadStoredState, `${path} does not parse`, { cause: err });
  }
  if (s.version !== 1)
    throw new BatchError(BatchErrorCode.BadStoredState, `${path}: version ${String(s.version)}`);
  if (
    s.inFlight &&
    !(s.inFlight.data instanceof Uint8Array && typeof s.inFlight.header?.batchIndex === "bigint")
  ) {
    throw new BatchError(BatchErrorCode.BadStoredState, `${path}: malformed batch in flight`);
  }
  return s;
}

export function saveSubmitterState(dir: string, s: SubmitterState): void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, FILE);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, JSON.stringify(s, big));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
