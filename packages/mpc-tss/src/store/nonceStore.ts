import { randomBytes } from "node:crypto";
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { bytesToHex, concatBytes, type Hex, hexToBytes, utf8ToBytes } from "@dseq/common";
import { TssError, TssErrorCode } from "../errors.ts";
import { removeDurable, writeFileDurable } from "./atomicFile.ts";
import { readJsonFile } from "./keyShareStore.ts";
import { openAtRest, sealAtRest } from "./sealed.ts";

/** Public half of a nonce record: what was published in round 1. */
export type NonceCommitmentRecord = {
  nonceId: Hex;
  sessionId: Hex;
  /** The only coordinator whose round-2 request may consume this nonce. */
  coordinator: Hex;
  groupKey: Hex;
  hiding: Hex;
  binding: Hex;
};

type NonceFile = NonceCommitmentRecord & {
  version: 1;
  createdAt: number;
  state: "fresh" | "used";
  /** Sealed hiding || binding nonce scalars; removed when used. */
  secret?: Hex;
};

export type NonceStoreOptions = {
  dir: string;
  /** 32-byte key, e.g. `KeyShareStore.dataKey("nonces")`. */
  key: Uint8Array;
};

/**
 * Signing nonces on disk, so a crash can never make a signer use one twice. The life of a
 * nonce: `create` seals and fsyncs it BEFORE the caller publishes its commitment; `take` marks
 * it used and fsyncs BEFORE returning the secret for a round-2 share; a used (or unknown) nonce
 * is refused forever after, across restarts. Records are one small file each.
 */
export class NonceStore {
  readonly dir: string;
  private readonly key: Uint8Array;
  private readonly records: Map<Hex, NonceFile>;

  private constructor(dir: string, key: Uint8Array, records: Map<Hex, NonceFile>) {
    this.dir = dir;
    this.key = key;
    this.records = records;
  }

  static async open(opts: NonceStoreOptions): Promise<NonceStore> {
    await mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const records = new Map<Hex, NonceFile>();
    for (const f of await readdir(opts.dir)) {
      if (!/^0x[0-9a-f]{32}\.json$/.test(f)) continue;
      const r = await readJsonFile<NonceFile>(join(opts.dir, f));
      if (!r || `${r.nonceId}.json` !== f) {
        throw new TssError(TssErrorCode.StoreCorrupt, "unreadable nonce record", { details: { file: f } });
      }
      records.set(r.nonceId, r);
    }
    return new NonceStore(opts.dir, opts.key, records);
  }

  /** Persists (durably) a new nonce pair; only then may its commitment be published. */
  async create(
    pub: Omit<NonceCommitmentRecord, "nonceId">,
    nonces: { hiding: Uint8Array; binding: Uint8Array },
    now = Date.now(),
  ): Promise<NonceCommitmentRecord> {
    const nonceId = bytesToHex(randomBytes(16));
    const rec: NonceFile = { version: 1, nonceId, ...pub, createdAt: now, state: "fresh" };
    rec.secret = sealAtRest(this.key, aad(rec), concatBytes(nonces.hiding, nonces.binding));
    await writeFileDurable(this.dir, `${nonceId}.json`, JSON.stringify(rec));
    this.records.set(nonceId, rec);
    return { nonceId, ...pub };
  }

  /** State of a nonce: `fresh`, `used`, or `unknown` (never stored, or pruned). */
  status(nonceId: Hex): "fresh" | "used" | "unknown" {
    return this.records.get(nonceId)?.state ?? "unknown";
  }

  /**
   * Marks the nonce used (durably) and returns its secret, once. Throws TSS_NONCE_UNAVAILABLE
   * when it is unknown, already used, or does not match the expected commitment.
   */
  async take(
    nonceId: Hex,
    expect: Omit<NonceCommitmentRecord, "nonceId">,
  ): Promise<{ hiding: Uint8Array; binding: Uint8Array }> {
    const rec = this.records.get(nonceId);
    const unavailable = (why: string): TssError =>
      new TssError(TssErrorCode.NonceUnavailable, `nonce ${why}`, { details: { nonceId } });
    if (!rec) throw unavailable("unknown");
    if (rec.state !== "fresh" || !rec.secret) throw unavailable("already used");
    if (
      rec.sessionId !== expect.sessionId ||
      rec.coordinator !== expect.coordinator ||
      rec.groupKey !== expect.groupKey ||
      rec.hiding !== expect.hiding ||
      rec.binding !== expect.binding
    ) {
      throw unavailable("does not match the commitment");
    }
    const secret = openAtRest(this.key, aad(rec), rec.secret);
    if (secret?.length !== 64)
      throw new TssError(TssErrorCode.StoreCorrupt, "nonce record does not authenticate");
    const used: NonceFile = { ...rec, state: "used" };
    delete used.secret;
    // Flip in memory first so a concurrent take() of the same id fails, then make it durable.
    this.records.set(nonceId, used);
    await writeFileDurable(this.dir, `${nonceId}.json`, JSON.stringify(used));
    return { hiding: secret.slice(0, 32), binding: secret.slice(32) };
  }

  /** Deletes records older than `maxAgeMs` (used ones are tombstones until then). */
  async prune(maxAgeMs: number, now = Date.now()): Promise<number> {
    let n = 0;
    for (const [id, r] of this.records) {
      if (now - r.createdAt < maxAgeMs) continue;
      this.records.delete(id);
      await removeDurable(this.dir, `${id}.json`);
      n++;
    }
    return n;
  }

  get size(): number {
    return this.records.size;
  }
}

function aad(r: NonceCommitmentRecord): Uint8Array {
  return concatBytes(
    utf8ToBytes("dseq/tss/nonce/v1"),
    hexToBytes(r.nonceId),
    hexToBytes(r.sessionId),
    hexToBytes(r.coordinator),
    hexToBytes(r.groupKey),
    hexToBytes(r.hiding),
    hexToBytes(r.binding),
  );
}
