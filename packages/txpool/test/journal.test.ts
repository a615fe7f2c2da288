import { appendFileSync, mkdtempSync, rmSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TxJournal, TxPool } from "../src/index.ts";
import { addressOf, CHAIN_ID, ETHER, head, TestState, testKey, tx1559 } from "./helpers.ts";

const keyA = testKey(1);
const keyB = testKey(2);
const A = addressOf(keyA);
const B = addressOf(keyB);

describe("local transaction journal", () => {
  let dir: string;
  let path: string;
  let state: TestState;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "dseq-txpool-"));
    path = join(dir, "transactions.journal");
    state = new TestState();
    state.fund(A, ETHER);
    state.fund(B, ETHER);
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function open(): TxPool {
    return new TxPool({ chainId: CHAIN_ID, journalPath: path }, { state });
  }

  it("brings pending and queued local transactions back after a restart, not remote ones", async () => {
    const pool = open();
    await pool.start(head());
    const locals = [
      await pool.addLocal(tx1559(keyA, { nonce: 0n })),
      await pool.addLocal(tx1559(keyA, { nonce: 1n })),
      await pool.addLocal(tx1559(keyB, { nonce: 4n })),
    ];
    const remote = await pool.addRemote(tx1559(keyB, { nonce: 0n }));
    await pool.stop();

    const again = open();
    await again.start(head());
    expect(locals.every((h) => again.has(h))).toBe(true);
    expect(again.has(remote)).toBe(false);
    expect(again.status()).toEqual({ pending: 2, queued: 1 });
    expect(again.get(locals[0] as `0x${string}`)?.local).toBe(true);
    await again.stop();
  });

  it("rotates on commit, keeping only what is still pooled", async () => {
    const pool = open();
    await pool.start(head());
    const a0 = await pool.addLocal(tx1559(keyA, { nonce: 0n }));
    const a1 = await pool.addLocal(tx1559(keyA, { nonce: 1n }));
    state.set(A, { nonce: 1n });
    await pool.onNewHead(head({ number: 2n, includedTxHashes: [a0] }));
    const { txs, torn } = new TxJournal(path).load();
    expect(torn).toBe(false);
    expect(txs).toEqual([pool.get(a1)?.raw]);
    await pool.stop();
  });

  it("ignores a torn last record and re-admits through the usual checks", async () => {
    const pool = open();
    await pool.start(head());
    const a0 = await pool.addLocal(tx1559(keyA, { nonce: 0n }));
    const a1 = await pool.addLocal(tx1559(keyA, { nonce: 1n }));
    const b0 = await pool.addLocal(tx1559(keyB, { nonce: 0n }));
    await pool.stop();
    // A crash in the middle of the last append: cut the file inside the last record.
    truncateSync(path, statSync(path).size - 10);
    // Meanwhile A's first transaction was included elsewhere.
    state.set(A, { nonce: 1n });
    const again = open();
    await again.start(head());
    expect(again.has(a0)).toBe(false); // nonce too low now
    expect(again.has(a1)).toBe(true);
    expect(again.has(b0)).toBe(false); // torn
    expect(again.status()).toEqual({ pending: 1, queued: 0 });
    // Garbage after a rotation: a record whose checksum does not match is the end too.
    await again.stop();
    appendFileSync(path, new Uint8Array([0, 0, 0, 2, 1, 2, 3, 4, 9, 9]));
    expect(new TxJournal(path).load()).toMatchObject({ torn: true, txs: [again.get(a1)?.raw] });
  });
});
