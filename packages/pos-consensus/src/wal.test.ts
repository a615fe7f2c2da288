import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDseqError } from "@dseq/common";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeBlock } from "../test/fixtures.ts";
import { encodeWalRecord, FileWal, type WalRecord } from "./wal.ts";

const records: WalRecord[] = [
  { kind: "input", height: 1, input: { type: "start" } },
  { kind: "input", height: 1, input: { type: "block", height: 1, block: makeBlock("payload") } },
  { kind: "input", height: 1, input: { type: "timeout", height: 1, round: 0, step: 1 } },
  { kind: "endHeight", height: 1 },
];

describe("FileWal", () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "dseq-wal-"));
    path = join(dir, "wal");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps records across reopen, bytes included", async () => {
    const wal = await FileWal.open(path);
    for (const r of records) await wal.append(r, r.kind === "endHeight");
    await wal.close();
    const again = await FileWal.open(path);
    expect(await again.records()).toEqual(records);
    await again.close();
  });

  it("cuts off a torn last record (a crash mid-write) and appends after it", async () => {
    const wal = await FileWal.open(path);
    for (const r of records) await wal.append(r, false);
    await wal.close();
    const good = (await stat(path)).size;
    const frame = encodeWalRecord({ kind: "endHeight", height: 2 });
    for (const cut of [3, 8, frame.length - 1]) {
      await appendFile(path, frame.subarray(0, cut));
      const w = await FileWal.open(path);
      expect(await w.records()).toEqual(records);
      expect((await stat(path)).size).toBe(good);
      await w.close();
    }
    // A complete last frame with a bad checksum is torn too.
    const bad = Buffer.from(frame);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
    await appendFile(path, bad);
    const w = await FileWal.open(path);
    expect(await w.records()).toEqual(records);
    await w.append({ kind: "endHeight", height: 2 }, true);
    await w.close();
    const w2 = await FileWal.open(path);
    expect((await w2.records()).at(-1)).toEqual({ kind: "endHeight", height: 2 });
    await w2.close();
  });

  it("refuses a log corrupted before its end", async () => {
    const wal = await FileWal.open(path);
    for (const r of records) await wal.append(r, false);
    await wal.close();
    const data = await readFile(path);
    data[10] = (data[10] as number) ^ 0xff; // inside the first record's body
    await writeFile(path, data);
    await expect(FileWal.open(path)).rejects.toSatisfy((e: unknown) =>
      isDseqError(e, "CONSENSUS_WAL_CORRUPT"),
    );
  });

  it("replace compacts atomically", async () => {
    const wal = await FileWal.open(path);
    for (const r of records) await wal.append(r, false);
    await wal.replace([{ kind: "endHeight", height: 1 }]);
    await wal.append({ kind: "input", height: 2, input: { type: "start" } }, true);
    await wal.close();
    const again = await FileWal.open(path);
    expect(await again.records()).toEqual([
      { kind: "endHeight", height: 1 },
      { kind: "input", height: 2, input: { type: "start" } },
    ]);
    await again.close();
  });
});
