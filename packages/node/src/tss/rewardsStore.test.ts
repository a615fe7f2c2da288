import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "@dseq/common";
import { RewardLedger } from "@dseq/sequencer-rotation";
import { afterEach, describe, expect, it } from "vitest";
import { RewardCheckpointStore } from "./rewardsStore.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function cut() {
  const l = new RewardLedger();
  l.credit(1, `0x${"a1".repeat(20)}` as Hex, 10n ** 30n);
  l.credit(2, `0x${"b2".repeat(20)}` as Hex, 3n);
  const first = l.checkpoint(10);
  l.credit(2, `0x${"b2".repeat(20)}` as Hex, 4n);
  return [first, l.checkpoint(20)];
}

describe("RewardCheckpointStore", () => {
  it("keeps checkpoints across a reopen, exactly as cut (bigints too), and lists the missing", () => {
    const dir = mkdtempSync(join(tmpdir(), "rewards-store-"));
    dirs.push(dir);
    const [a, b] = cut();
    const s = RewardCheckpointStore.open(dir);
    expect(s.missing(2)).toEqual([0, 1]);
    s.put(b!);
    expect(s.missing(2)).toEqual([0]);
    const again = RewardCheckpointStore.open(dir);
    expect(again.get(1)).toEqual(b);
    expect(again.get(0)).toBeUndefined();
    again.put(a!);
    again.put({ ...a!, total: 0n }); // a checkpoint never changes: the first stays
    expect(RewardCheckpointStore.open(dir).get(0)).toEqual(a);
    expect(readdirSync(dir).sort()).toEqual(["0.json", "1.json"]);
  });

  it("ignores a file that does not decode (it is refilled from the chain)", () => {
    const dir = mkdtempSync(join(tmpdir(), "rewards-store-"));
    dirs.push(dir);
    const [a] = cut();
    RewardCheckpointStore.open(dir).put(a!);
    const stored = JSON.parse(readFileSync(join(dir, "0.json"), "utf8"));
    writeFileSync(join(dir, "1.json"), JSON.stringify({ ...stored, index: 1, total: "-1" }));
    writeFileSync(join(dir, "2.json"), JSON.stringify(stored)); // index 0 in file 2
    writeFileSync(join(dir, "3.json"), "{not json");
    const s = RewardCheckpointStore.open(dir);
    expect(s.get(0)).toEqual(a);
    expect(s.missing(4)).toEqual([1, 2, 3]);
  });
});
