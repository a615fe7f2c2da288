import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { bytesToHex, isDseqError } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { certificateOf, makeBlock, makeValidators, signProposal, signVote } from "../test/fixtures.ts";
import { encodeJson } from "./codec.ts";
import { MsgType } from "./types.ts";
import { encodeWalRecord, FileWal, type WalRecord } from "./wal.ts";

const records: WalRecord[] = [
  { kind: "input", height: 1, input: { type: "start" } },
  { kind: "input", height: 1, input: { type: "block", height: 1, block: makeBlock("payload") } },
  { kind: "input", height: 1, input: { type: "timeout", height: 1, round: 0, step: 1 } },
  { kind: "endHeight", height: 1 },
];

const tv = makeValidators(4);
const B = makeBlock("b");
/** One record of every input kind, options present and absent. */
const everyKind: WalRecord[] = [
  ...records,
  {
    kind: "input",
    height: 7,
    input: {
      type: "proposal",
      proposal: signProposal(tv.keys[1]!, tv.addresses[1]!, 7, 2, 0, B.hash),
      block: B,
    },
  },
  {
    kind: "input",
    height: 7,
    input: { type: "vote", vote: signVote(tv.keys[2]!, tv.addresses[2]!, MsgType.Prevote, 7, 3, null) },
  },
  {
    kind: "input",
    height: 7,
    input: { type: "certificate", certificate: certificateOf(tv, [0, 1, 2], 7, 1, B.hash) },
  },
  { kind: "input", height: 7, input: { type: "valueReady", height: 7, round: 4, block: B } },
  { kind: "input", height: 7, input: { type: "validated", height: 7, blockHash: B.hash, valid: true } },
  {
    kind: "input",
    height: 7,
    input: { type: "validated", height: 7, blockHash: B.hash, valid: true, round: 5 },
  },
  {
    kind: "input",
    height: 7,
    input: { type: "validated", height: 7, blockHash: B.hash, valid: false, reason: "bad state root ✗" },
  },
  { kind: "endHeight", height: 2 ** 40 },
];

/** A frame around any body, as the pre-ADR-0053 writer made them (JSON bodies). */
function frame(body: Uint8Array): Buffer {
  const out = Buffer.alloc(8 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.writeUInt32BE(crc32(body), 4);
  out.set(body, 8);
  return out;
}
const jsonFrame = (r: unknown) => frame(Buffer.from(encodeJson(r), "utf8"));

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

  it("writes binary bodies (a kind byte, then RLP) and reads every input kind back", async () => {
    expect(encodeWalRecord(records[1]!)[8]).toBe(0x01);
    expect(encodeWalRecord(records[3]!)[8]).toBe(0x02);
    const wal = await FileWal.open(path);
    for (const r of everyKind) await wal.append(r, false);
    await wal.close();
    const again = await FileWal.open(path);
    expect(await again.records()).toEqual(everyKind);
    await again.close();
  });

  it("a 2 MiB proposal is a ~2 MiB record (hex JSON made it 4+ MiB)", () => {
    const payload = new Uint8Array(2 * 1024 * 1024).fill(5);
    const block = { hash: bytesToHex(keccak256(payload)), payload };
    const proposal = signProposal(tv.keys[1]!, tv.addresses[1]!, 7, 0, -1, block.hash);
    const bytes = encodeWalRecord({
      kind: "input",
      height: 7,
      input: { type: "proposal", proposal, block },
    }).length;
    expect(bytes).toBeGreaterThan(payload.length);
    expect(bytes).toBeLessThan(payload.length + 256);
  });

  it("still reads JSON records of the old format, beside binary ones", async () => {
    await writeFile(
      path,
      Buffer.concat([jsonFrame(everyKind[4]), encodeWalRecord(everyKind[5]!), jsonFrame(everyKind[6])]),
    );
    const wal = await FileWal.open(path);
    expect(await wal.records()).toEqual(everyKind.slice(4, 7));
    await wal.close();
  });

  it("reports a whole record that does not decode as undecodable, and reads on after it", async () => {
    const poisoned = {
      kind: "input",
      height: 1,
      input: {
        type: "certificate",
        certificate: { height: 1, round: 0, blockHash: B.hash, signatures: [{}] },
      },
    };
    await writeFile(
      path,
      Buffer.concat([
        encodeWalRecord(records[0]!),
        jsonFrame(poisoned),
        frame(Uint8Array.of(0x01, 0xc1)),
        frame(Uint8Array.of(0x09)),
        encodeWalRecord(records[3]!),
      ]),
    );
    const wal = await FileWal.open(path);
    const got = await wal.records();
    expect(got.map((r) => r.kind)).toEqual([
      "input",
      "undecodable",
      "undecodable",
      "undecodable",
      "endHeight",
    ]);
    expect(got[1]).toEqual({
      kind: "undecodable",
      offset: encodeWalRecord(records[0]!).length,
      reason: expect.any(String),
    });
    await wal.close();
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
