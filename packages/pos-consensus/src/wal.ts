import { closeSync, fsyncSync, openSync } from "node:fs";
import { type FileHandle, open, rename, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { crc32 } from "node:zlib";
import { errorMessage, type Logger } from "@dseq/common";
import { ConsensusError, ConsensusErrorCode } from "./errors.ts";
import { decodeWalBody, encodeWalBody, type WalEntry, type WalRecord } from "./walCodec.ts";

export type { UndecodableWalRecord, WalEntry, WalRecord } from "./walCodec.ts";

/** The write-ahead log the driver writes before it acts. */
export interface Wal {
  /** Appends a record; with `sync` it is on disk (fsync) when the promise resolves. */
  append(record: WalRecord, sync: boolean): Promise<void>;
  /**
   * Every record, oldest first. A record that was written whole but does not decode is
   * returned as `undecodable` (the reader goes on after it). The driver reads once, at start:
   * `FileWal` answers what the file held when opened, `MemoryWal` everything so far. What all
   * implementations share is checked by one suite (test/walSuite.ts) run against each.
   */
  records(): Promise<WalEntry[]>;
  /** Atomically replaces the whole log with `records` (compaction). */
  replace(records: WalRecord[]): Promise<void>;
  /** Bytes stored. */
  readonly size: number;
  close(): Promise<void>;
}

const HEADER = 8; // u32 length, u32 crc32 of the body
const MAX_RECORD = 64 * 1024 * 1024;

export function encodeWalRecord(record: WalRecord): Buffer {
  const body = encodeWalBody(record);
  if (body.length > MAX_RECORD)
    throw new ConsensusError(ConsensusErrorCode.WalRecordTooLarge, "WAL record too large");
  const out = Buffer.allocUnsafe(HEADER + body.length);
  out.writeUInt32BE(body.length, 0);
  out.writeUInt32BE(crc32(body), 4);
  out.set(body, HEADER);
  return out;
}

/**
 * Parses frames. A torn last frame (cut short, or with a bad checksum and nothing after it)
 * is what a crash mid-write leaves: it is reported as `validBytes` < data length so the
 * caller can cut it off. A bad frame followed by more data is corruption: that throws.
 */
export function decodeWalFrames(data: Buffer): { records: WalEntry[]; validBytes: number } {
  const records: WalEntry[] = [];
  let off = 0;
  while (off < data.length) {
    if (data.length - off < HEADER) break; // torn header
    const len = data.readUInt32BE(off);
    const end = off + HEADER + len;
    if (len > MAX_RECORD || end > data.length) break; // torn body (or garbage length at the tail)
    const body = data.subarray(off + HEADER, end);
    if (crc32(body) !== data.readUInt32BE(off + 4)) {
      if (end === data.length) break; // torn last record
      throw new ConsensusError(
        ConsensusErrorCode.WalCorrupt,
        "WAL record checksum mismatch before the end of the log",
        {
          details: { offset: off },
        },
      );
    }
    try {
      records.push(decodeWalBody(body, MAX_RECORD));
    } catch (err) {
      records.push({ kind: "undecodable", offset: off, reason: errorMessage(err) });
    }
    off = end;
  }
  return { records, validBytes: off };
}

async function fsyncDir(path: string): Promise<void> {
  // Directory fsync makes a rename durable. Synchronous: it is rare and fast.
  const fd = openSync(dirname(path), "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A WAL in one append-only file: length-prefixed records with a CRC32 each. */
export class FileWal implements Wal {
  private fh: FileHandle;
  private bytes: number;
  private cached: WalEntry[];
  readonly path: string;

  private constructor(path: string, fh: FileHandle, bytes: number, records: WalEntry[]) {
    this.path = path;
    this.fh = fh;
    this.bytes = bytes;
    this.cached = records;
  }

  /** Opens (or creates) the log; cuts off a torn last record and says so in the log. */
  static async open(path: string, logger?: Logger): Promise<FileWal> {
    const fh = await open(path, "a+");
    const data = await fh.readFile();
    const { records, validBytes } = decodeWalFrames(data);
    if (validBytes < data.length) {
      logger?.warn("WAL: cutting off a torn last record", { path, validBytes, fileBytes: data.length });
      await fh.truncate(validBytes);
      await fh.sync();
    }
    return new FileWal(path, fh, validBytes, records);
  }

  get size(): number {
    return this.bytes;
  }

  async append(record: WalRecord, sync: boolean): Promise<void> {
    const frame = encodeWalRecord(record);
    await this.fh.write(frame);
    this.bytes += frame.length;
    if (sync) await this.fh.datasync();
  }

  /** The records found when the file was opened (the driver replays from them once). */
  async records(): Promise<WalEntry[]> {
    return this.cached;
  }

  async replace(records: WalRecord[]): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const out = await open(tmp, "w");
    let bytes = 0;
    try {
      for (const r of records) {
        const frame = encodeWalRecord(r);
        await out.write(frame);
        bytes += frame.length;
      }
      await out.sync();
    } finally {
      await out.close();
    }
    await this.fh.close();
    await rename(tmp, this.path);
    await fsyncDir(this.path);
    this.fh = await open(this.path, "a+");
    this.bytes = bytes;
    this.cached = records;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  static async sizeOf(path: string): Promise<number> {
    return (await stat(path)).size;
  }
}

/** A WAL in memory: for simulations and embedders that accept losing it with the process. */
export class MemoryWal implements Wal {
  private list: WalRecord[] = [];
  private bytes = 0;
  get size(): number {
    return this.bytes;
  }
  async append(record: WalRecord): Promise<void> {
    this.list.push(record);
    this.bytes += 64;
  }
  async records(): Promise<WalRecord[]> {
    return this.list.slice();
  }
  async replace(records: WalRecord[]): Promise<void> {
    this.list = records.slice();
    this.bytes = 64 * records.length;
  }
  async close(): Promise<void> {}
}
