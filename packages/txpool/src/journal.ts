import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";

const HEADER = 8;

function record(raw: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + raw.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, raw.length);
  view.setUint32(4, crc32(raw));
  out.set(raw, HEADER);
  return out;
}

/**
 * Append-only file of the local transactions (geth's `transactions.rlp` idea): each record is
 * `u32 length || u32 crc32 || raw tx`. A crash mid-append leaves a torn last record, which
 * `load` ignores. `rotate` rewrites the file with what is still pooled (temp file, fsync,
 * rename), so it does not grow without bound.
 */
export class TxJournal {
  readonly path: string;
  private fd: number | undefined;

  constructor(path: string) {
    this.path = path;
  }

  /** Every complete record, in order; stops at the first torn or corrupt one. */
  load(): { txs: Uint8Array[]; torn: boolean } {
    if (!existsSync(this.path)) return { txs: [], torn: false };
    const buf = new Uint8Array(readFileSync(this.path));
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const txs: Uint8Array[] = [];
    let off = 0;
    while (off < buf.length) {
      if (off + HEADER > buf.length) return { txs, torn: true };
      const len = view.getUint32(off);
      const sum = view.getUint32(off + 4);
      if (off + HEADER + len > buf.length) return { txs, torn: true };
      const raw = buf.slice(off + HEADER, off + HEADER + len);
      if (crc32(raw) !== sum) return { txs, torn: true };
      txs.push(raw);
      off += HEADER + len;
    }
    return { txs, torn: false };
  }

  append(raw: Uint8Array): void {
    if (this.fd === undefined) this.fd = openSync(this.path, "a");
    writeSync(this.fd, record(raw));
  }

  /** Replaces the journal's content with `txs`, atomically. */
  rotate(txs: readonly Uint8Array[]): void {
    this.close();
    const tmp = `${this.path}.new`;
    const fd = openSync(tmp, "w");
    try {
      for (const raw of txs) writeSync(fd, record(raw));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    this.fd = openSync(this.path, "a");
  }

  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}
