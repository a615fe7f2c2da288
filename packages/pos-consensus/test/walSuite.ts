import { describe, expect, it } from "vitest";
import { MsgType } from "../src/types.ts";
import type { Wal, WalRecord } from "../src/wal.ts";
import { certificateOf, makeBlock, makeValidators, signProposal, signVote } from "./fixtures.ts";

/**
 * One implementation of `Wal` under test. `open` starts on empty storage; `reopen` closes
 * nothing and returns a handle onto the same storage, as a restarted node would get it.
 */
export type WalSubject = {
  open(): Promise<Wal>;
  reopen(): Promise<Wal>;
};

const tv = makeValidators(4);
const B = makeBlock("suite");

/** One record of every kind the driver writes. */
export const walRecordsOfEveryKind: WalRecord[] = [
  { kind: "input", height: 1, input: { type: "start" } },
  { kind: "input", height: 1, input: { type: "block", height: 1, block: makeBlock("payload") } },
  { kind: "input", height: 1, input: { type: "timeout", height: 1, round: 0, step: 1 } },
  {
    kind: "input",
    height: 1,
    input: {
      type: "proposal",
      proposal: signProposal(tv.keys[1]!, tv.addresses[1]!, 1, 2, 0, B.hash),
      block: B,
    },
  },
  {
    kind: "input",
    height: 1,
    input: { type: "vote", vote: signVote(tv.keys[2]!, tv.addresses[2]!, MsgType.Prevote, 1, 3, null) },
  },
  {
    kind: "input",
    height: 1,
    input: { type: "certificate", certificate: certificateOf(tv, [0, 1, 2], 1, 1, B.hash) },
  },
  { kind: "input", height: 1, input: { type: "valueReady", height: 1, round: 4, block: B } },
  {
    kind: "input",
    height: 1,
    input: { type: "validated", height: 1, blockHash: B.hash, valid: false, reason: "no" },
  },
  { kind: "endHeight", height: 1 },
];

/**
 * What every WAL must do for the driver: records come back in order and equal after a reopen
 * (a restart), compaction replaces them atomically, `size` follows what is stored. Not part of
 * the contract: whether `records()` on the handle that appended already shows the appends
 * (FileWal answers what the file held when opened: the driver reads once, at start).
 */
export function walSuite(name: string, makeSubject: () => Promise<WalSubject>): void {
  describe(`Wal contract: ${name}`, () => {
    it("starts empty", async () => {
      const wal = await (await makeSubject()).open();
      expect(await wal.records()).toEqual([]);
      expect(wal.size).toBe(0);
      await wal.close();
    });

    it("returns every record appended before a reopen, in order and equal, synced or not", async () => {
      const subject = await makeSubject();
      const wal = await subject.open();
      let size = wal.size;
      for (const [i, r] of walRecordsOfEveryKind.entries()) {
        await wal.append(r, i % 2 === 0);
        expect(wal.size).toBeGreaterThan(size);
        size = wal.size;
      }
      await wal.close();
      const again = await subject.reopen();
      expect(await again.records()).toEqual(walRecordsOfEveryKind);
      expect(again.size).toBe(size);
      await again.close();
    });

    it("replace compacts: the replaced records, then what is appended after", async () => {
      const subject = await makeSubject();
      const wal = await subject.open();
      for (const r of walRecordsOfEveryKind) await wal.append(r, false);
      const before = wal.size;
      await wal.replace([{ kind: "endHeight", height: 1 }]);
      expect(wal.size).toBeLessThan(before);
      await wal.append({ kind: "input", height: 2, input: { type: "start" } }, true);
      await wal.close();
      const again = await subject.reopen();
      expect(await again.records()).toEqual([
        { kind: "endHeight", height: 1 },
        { kind: "input", height: 2, input: { type: "start" } },
      ]);
      await again.close();
    });

    it("replace with nothing empties it", async () => {
      const subject = await makeSubject();
      const wal = await subject.open();
      for (const r of walRecordsOfEveryKind) await wal.append(r, true);
      await wal.replace([]);
      expect(wal.size).toBe(0);
      await wal.close();
      const again = await subject.reopen();
      expect(await again.records()).toEqual([]);
      await again.close();
    });

    it("hands out records the caller may change without changing the log", async () => {
      const subject = await makeSubject();
      const wal = await subject.open();
      await wal.append(walRecordsOfEveryKind[0]!, true);
      await wal.close();
      const again = await subject.reopen();
      (await again.records()).length = 0;
      await again.close();
      const third = await subject.reopen();
      expect(await third.records()).toEqual([walRecordsOfEveryKind[0]]);
      await third.close();
    });
  });
}
