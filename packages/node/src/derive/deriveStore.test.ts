import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "@dseq/common";
import { encodeJson, openLevelKvStore } from "@dseq/l1-bridge-listener";
import { afterEach, describe, expect, it } from "vitest";
import { batchKey, findRewindTarget, type StoredTip } from "./deriveStore.ts";

const G = `0x${"11".repeat(32)}` as Hex;
const tipAt = (i: number): StoredTip => ({
  batchIndex: BigInt(i),
  batchHash: `0x${i.toString(16).padStart(64, "0")}`,
  lastBlock: BigInt(i * 10),
  lastBlockHash: `0x${(i * 10).toString(16).padStart(64, "0")}`,
  l1Block: BigInt(100 + i),
  nextEntry: 0n,
  genesisHash: G,
  batchSeq: i,
});

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function storeWith(indexes: number[]) {
  dir = mkdtempSync(join(tmpdir(), "dseq-derive-store-"));
  const s = await openLevelKvStore(join(dir, "state"));
  for (const i of indexes) await s.store.put(batchKey(BigInt(i)), encodeJson(tipAt(i)));
  return s;
}

describe("findRewindTarget", () => {
  it("is undefined while the tip is on L1, else the newest earlier batch on L1", async () => {
    const s = await storeWith([1, 2, 3, 4, 5]);
    const gone = new Set([4n, 5n]);
    const onL1 = (t: StoredTip) => !gone.has(t.batchIndex);
    expect(await findRewindTarget(s.store, tipAt(3), onL1)).toBeUndefined();
    expect(await findRewindTarget(s.store, tipAt(5), onL1)).toEqual(tipAt(3));
    await s.close();
  });

  it("goes back to genesis when no earlier batch is on L1 or the history stops", async () => {
    const s = await storeWith([3, 4]);
    const genesis = await findRewindTarget(s.store, tipAt(4), (t) => t.batchIndex < 2n);
    expect(genesis).toMatchObject({ batchIndex: 0n, lastBlock: 0n, lastBlockHash: G, batchSeq: -1 });
    expect(await findRewindTarget(s.store, tipAt(4), () => false)).toMatchObject({ batchIndex: 0n });
    await s.close();
  });
});
