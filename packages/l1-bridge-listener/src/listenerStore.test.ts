import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Address, Hex } from "viem";
import { afterEach, describe, expect, it } from "vitest";
import { L1ListenerErrorCode } from "./errors.ts";
import { openLevelKvStore } from "./levelKvStore.ts";
import { initialListenerState } from "./listenerState.ts";
import {
  loadListenerState,
  pruneStoredEvents,
  readStoredEvents,
  saveListenerState,
} from "./listenerStore.ts";
import type { L1Event } from "./types.ts";

const contracts = {
  lockingPool: "0x1000000000000000000000000000000000000001" as Address,
  depositBridge: "0x2000000000000000000000000000000000000002" as Address,
  batchInbox: "0x3000000000000000000000000000000000000003" as Address,
};
const scope = { l1ChainId: 31337, contracts };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const deposit = (seq: number): L1Event => ({
  type: "deposit",
  seq,
  nonce: BigInt(seq + 1),
  from: contracts.lockingPool,
  to: contracts.batchInbox,
  amount: 10n ** 30n + BigInt(seq),
  l1: {
    blockNumber: 5n,
    blockHash: `0x${"ab".repeat(32)}` as Hex,
    logIndex: seq,
    transactionHash: `0x${"cd".repeat(32)}` as Hex,
    address: contracts.depositBridge,
  },
});

describe("listener store on LevelDB", () => {
  it("round-trips state and events with uint256 values, reopens, prunes, forgets", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dseq-l1store-"));
    dirs.push(dir);
    let db = await openLevelKvStore(dir);
    expect(await loadListenerState(db.store, scope)).toBeUndefined();
    const state = {
      ...initialListenerState({ number: 4n, hash: `0x${"01".repeat(32)}` }),
      amounts: new Map([[1n, 2n ** 200n]]),
      nextSeq: 3,
    };
    await saveListenerState(db.store, scope, state, [deposit(0), deposit(1), deposit(2)]);
    await db.close();
    db = await openLevelKvStore(dir);
    const back = await loadListenerState(db.store, scope);
    expect(back?.amounts.get(1n)).toBe(2n ** 200n);
    expect(back?.recent).toEqual(state.recent);
    expect(back?.nextSeq).toBe(3);
    expect(await readStoredEvents(db.store, 1)).toEqual([deposit(1), deposit(2)]);
    expect(await readStoredEvents(db.store, 0, 1)).toEqual([deposit(0)]);
    expect(await pruneStoredEvents(db.store, 1)).toBe(1);
    await saveListenerState(db.store, scope, state, [], { fromSeq: 2, toSeq: 3 });
    expect((await readStoredEvents(db.store, 0)).map((e) => e.seq)).toEqual([1]);
    await expect(loadListenerState(db.store, { ...scope, l1ChainId: 1 })).rejects.toMatchObject({
      code: L1ListenerErrorCode.BadStoredState,
    });
    await db.close();
  });
});
