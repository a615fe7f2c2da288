import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Chain, createChain, defaultCreateChainOptions } from "../src/index.ts";
import type { ChainLevel } from "../src/nodeStore.ts";
import { headKey } from "../src/store.ts";
import {
  fillerAddress,
  type TestAccount,
  TOKEN,
  testAccounts,
  testChainConfig,
  transferCalldata,
  transferTx,
} from "./fixtures.ts";

const senders = testAccounts(4, "durability");
const config = testChainConfig({ senders, fillers: 20 });
const coinbase = "0x00000000000000000000000000000000c0ffee00" as const;

type Write = { kind: "batch" | "put" | "del"; ops: number; sync: boolean | undefined; keys: Uint8Array[] };

/** Records every write the chain sends to its (real) LevelDB, with the options it passes. */
function recordWrites(chain: Chain): Write[] {
  const db = (chain as unknown as { db: ChainLevel }).db;
  const writes: Write[] = [];
  const batch = db.batch.bind(db) as (ops: unknown, o?: unknown) => Promise<void>;
  const put = db.put.bind(db) as (k: unknown, v: unknown, o?: unknown) => Promise<void>;
  const del = db.del.bind(db) as (k: unknown, o?: unknown) => Promise<void>;
  Object.assign(db, {
    batch: (ops: { key: Uint8Array }[], o?: { sync?: boolean }) => {
      writes.push({ kind: "batch", ops: ops.length, sync: o?.sync, keys: ops.map((x) => x.key) });
      return batch(ops, o);
    },
    put: (k: Uint8Array, v: Uint8Array, o?: { sync?: boolean }) => {
      writes.push({ kind: "put", ops: 1, sync: o?.sync, keys: [k] });
      return put(k, v, o);
    },
    del: (k: Uint8Array, o?: { sync?: boolean }) => {
      writes.push({ kind: "del", ops: 1, sync: o?.sync, keys: [k] });
      return del(k, o);
    },
  });
  return writes;
}

const hex = (k: Uint8Array) => Buffer.from(k).toString("hex");

async function listKeys(chain: Chain): Promise<Set<string>> {
  const db = (chain as unknown as { db: ChainLevel }).db;
  const keys = new Set<string>();
  for await (const k of db.keys()) keys.add(hex(k));
  return keys;
}

describe("durable commits (syncWrites)", () => {
  const dirs: string[] = [];
  const newDir = async () => {
    const d = await mkdtemp(join(tmpdir(), "l2exec-durable-"));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("by default the whole commit is one fsynced batch, and nothing reaches the disk before it", async () => {
    expect(defaultCreateChainOptions.syncWrites).toBe(true);
    const chain = await createChain({ dataDir: await newDir(), chainConfig: config });
    const writes = recordWrites(chain);
    const common = chain.head().common;
    const keysBefore = await listKeys(chain);
    // a transfer and an ERC-20 transfer: account, storage-trie and new-account nodes
    const txs = [
      transferTx(common, senders[0] as TestAccount, 0n, fillerAddress(3), 1n),
      transferTx(common, senders[1] as TestAccount, 0n, TOKEN, 0n, {
        gasLimit: 80_000n,
        data: transferCalldata("0x00000000000000000000000000000000000b0b00", 5n),
      }),
    ];
    const built = await chain.buildBlock({ txs, timestamp: chain.head().header.timestamp + 2n, coinbase });
    expect(built.block.transactions.length).toBe(2);
    const ex = await chain.executeBlock(built.block.serialize());
    expect(ex.valid).toBe(true);
    // build and execute left the store as it was: their state nodes are in memory only
    expect(writes).toEqual([]);
    expect(await listKeys(chain)).toEqual(keysBefore);

    await chain.commit(built.block, built.receipts, {
      commitCertificate: new Uint8Array([1, 2, 3]),
      safe: true,
      finalized: true,
    });
    expect(writes.length).toBe(1);
    const w = writes[0] as Write;
    expect(w.kind).toBe("batch");
    expect(w.sync).toBe(true);
    // block, receipts, lookups, bloom, certificate, heads and the state nodes, together: every
    // key the commit added is in the synced batch, and so is the head pointer
    const batchKeys = new Set(w.keys.map(hex));
    const added = [...(await listKeys(chain))].filter((k) => !keysBefore.has(k));
    expect(added.length).toBeGreaterThan(8);
    expect(added.filter((k) => !batchKeys.has(k))).toEqual([]);
    for (const name of ["latest", "safe", "finalized"] as const)
      expect(batchKeys.has(hex(headKey(name)))).toBe(true);

    await chain.setSafe(1n);
    expect(writes.at(-1)?.sync).toBe(true);
    await chain.close();
  });

  it("syncWrites: false turns the fsync off (tests and benchmarks)", async () => {
    const chain = await createChain({ dataDir: await newDir(), chainConfig: config, syncWrites: false });
    const writes = recordWrites(chain);
    const built = await chain.buildBlock({
      txs: [],
      timestamp: chain.head().header.timestamp + 2n,
      coinbase,
    });
    await chain.commit(built.block);
    expect(writes.map((w) => [w.kind, w.sync])).toEqual([["batch", false]]);
    await chain.close();
  });
});
