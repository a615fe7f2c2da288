import type { Address, Hex } from "viem";
import { describe, expect, it } from "vitest";
import { type ApplyRangeResult, applyRange, type RangeRead } from "./applyRange.ts";
import { L1ListenerErrorCode } from "./errors.ts";
import { cursorOf, initialListenerState, type ListenerState } from "./listenerState.ts";
import { rewindTo, walkBackCandidates } from "./rewind.ts";
import type { DecodedL1Log, L1BlockHeader, L1Event } from "./types.ts";

const contracts = {
  lockingPool: "0x1000000000000000000000000000000000000001" as Address,
  depositBridge: "0x2000000000000000000000000000000000000002" as Address,
  batchInbox: "0x3000000000000000000000000000000000000003" as Address,
};
const opts = { contracts, maxReorgDepth: 64n };
const owner = "0x00000000000000000000000000000000000000aa" as Address;
const signer = "0x00000000000000000000000000000000000000bb" as Address;

/** Block hashes of a test chain: fork "a" or "b", number n. */
const hash = (fork: string, n: bigint): Hex =>
  `0x${fork.charCodeAt(0).toString(16).padStart(2, "0")}${n.toString(16).padStart(62, "0")}`;
const header = (fork: string, n: bigint, parentFork = fork): L1BlockHeader => ({
  number: n,
  hash: hash(fork, n),
  parentHash: n === 0n ? hash("g", 0n) : hash(parentFork, n - 1n),
});

let logIndex = 0;
function log(
  fork: string,
  n: bigint,
  address: Address,
  eventName: string,
  args: Record<string, unknown>,
): DecodedL1Log {
  return {
    address,
    blockNumber: n,
    blockHash: hash(fork, n),
    logIndex: logIndex++,
    transactionHash: `0x${"cd".repeat(32)}`,
    eventName,
    args,
  };
}
const locked = (fork: string, n: bigint, id: bigint, amount: bigint) =>
  log(fork, n, contracts.lockingPool, "Locked", {
    signer,
    sequencerId: id,
    nonce: 1n,
    owner,
    rewardRecipient: owner,
    amount,
    total: amount,
    signerPubkey: "0x1234",
  });
const lockUpdate = (fork: string, n: bigint, id: bigint, nonce: bigint, newAmount: bigint) =>
  log(fork, n, contracts.lockingPool, "LockUpdate", { sequencerId: id, nonce, newAmount, total: newAmount });
const deposit = (fork: string, n: bigint, nonce: bigint) =>
  log(fork, n, contracts.depositBridge, "DepositInitiated", { nonce, from: owner, to: signer, amount: 5n });

function range(fork: string, from: bigint, to: bigint, logs: DecodedL1Log[], parentFork = fork): RangeRead {
  const numbers = new Set([from, to, ...logs.map((l) => l.blockNumber)]);
  const headers = [...numbers].map((n) => header(fork, n, n === from ? parentFork : fork));
  return { from, to, headers, logs };
}

function applied(r: ApplyRangeResult): { state: ListenerState; events: readonly L1Event[] } {
  if (r.kind !== "applied")
    throw new Error(
      `expected applied, got ${r.kind}: ${JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? String(v) : v))}`,
    );
  return r;
}

const start = (): ListenerState => initialListenerState({ number: 9n, hash: hash("a", 9n) });

describe("applyRange", () => {
  it("turns logs into events in block and log order, LockUpdate as a delta, with provenance", () => {
    // made in L1 order (log indexes ascend), handed over shuffled
    const made = [
      locked("a", 10n, 1n, 30n),
      lockUpdate("a", 11n, 1n, 2n, 35n),
      lockUpdate("a", 12n, 1n, 3n, 25n),
      deposit("a", 12n, 1n),
    ];
    const logs = [made[3], made[0], made[2], made[1]] as DecodedL1Log[];
    const { state, events } = applied(applyRange(start(), range("a", 10n, 12n, logs), opts));
    expect(
      events.map((e) => [e.seq, e.type, e.type === "stake" ? e.change.kind : "", e.l1.blockNumber]),
    ).toEqual([
      [0, "stake", "lock", 10n],
      [1, "stake", "increase", 11n],
      [2, "stake", "withdraw", 12n],
      [3, "deposit", "", 12n],
    ]);
    const [, inc, wd] = events;
    expect(inc?.type === "stake" && inc.change).toMatchObject({
      kind: "increase",
      amount: 5n,
      newAmount: 35n,
    });
    expect(wd?.type === "stake" && wd.change).toMatchObject({
      kind: "withdraw",
      amount: 10n,
      newAmount: 25n,
    });
    expect(wd?.type === "stake" && wd.nonce).toBe(3n);
    expect(events[0]?.l1.blockHash).toBe(hash("a", 10n));
    expect(cursorOf(state)).toMatchObject({ number: 12n, hash: hash("a", 12n) });
    expect(state.amounts.get(1n)).toBe(25n);
    expect(state.nextSeq).toBe(4);
  });

  it("carries amounts and seq across ranges", () => {
    let s = applied(applyRange(start(), range("a", 10n, 10n, [locked("a", 10n, 7n, 100n)]), opts)).state;
    const r = applied(applyRange(s, range("a", 11n, 20n, [lockUpdate("a", 15n, 7n, 2n, 150n)]), opts));
    s = r.state;
    expect(r.events[0]).toMatchObject({ seq: 1, change: { kind: "increase", amount: 50n } });
    expect(s.recent.map((b) => b.number)).toEqual([9n, 10n, 15n, 20n]);
  });

  it("reports a parent mismatch when `from` does not link to the cursor, changing nothing", () => {
    const s = start();
    const r = applyRange(s, range("b", 10n, 11n, [], "b"), opts);
    expect(r.kind).toBe("parentMismatch");
  });

  it("refuses a log whose block hash is not the header's", () => {
    const bad = { ...deposit("a", 11n, 1n), blockHash: hash("b", 11n) };
    const r = applyRange(start(), range("a", 10n, 12n, [bad]), opts);
    expect(r).toMatchObject({ kind: "inconsistent", reason: "log block hash differs from the header" });
  });

  it("refuses headers that do not link, logs from other contracts, removed and duplicate logs", () => {
    const unlinked: RangeRead = {
      from: 10n,
      to: 11n,
      headers: [header("a", 10n), header("b", 11n)],
      logs: [],
    };
    expect(applyRange(start(), unlinked, opts)).toMatchObject({ reason: "headers do not link" });
    const foreign = {
      ...deposit("a", 10n, 1n),
      address: "0x9000000000000000000000000000000000000009" as Address,
    };
    expect(applyRange(start(), range("a", 10n, 10n, [foreign]), opts)).toMatchObject({
      reason: "log from another contract",
    });
    const removed = { ...deposit("a", 10n, 1n), removed: true };
    expect(applyRange(start(), range("a", 10n, 10n, [removed]), opts)).toMatchObject({
      reason: "log marked removed",
    });
    const d = deposit("a", 10n, 1n);
    expect(applyRange(start(), range("a", 10n, 10n, [d, d]), opts)).toMatchObject({
      reason: "duplicate log",
    });
    const noEnd: RangeRead = { from: 10n, to: 12n, headers: [header("a", 10n)], logs: [] };
    expect(applyRange(start(), noEnd, opts)).toMatchObject({ reason: "range end headers missing" });
  });

  it("halts on a LockUpdate for a sequencer it never saw locked", () => {
    expect(() => applyRange(start(), range("a", 10n, 10n, [lockUpdate("a", 10n, 5n, 2n, 1n)]), opts)).toThrow(
      expect.objectContaining({ code: L1ListenerErrorCode.InvariantBroken }),
    );
  });

  it("throws on a range that does not continue the cursor", () => {
    expect(() => applyRange(start(), range("a", 11n, 12n, []), opts)).toThrow(
      expect.objectContaining({ code: L1ListenerErrorCode.InvariantBroken }),
    );
  });

  it("keeps block hashes maxReorgDepth below the cursor plus one bottom block", () => {
    let s = start();
    for (let n = 10n; n < 30n; n++)
      s = applied(applyRange(s, range("a", n, n, []), { contracts, maxReorgDepth: 5n })).state;
    expect(s.recent.map((b) => b.number)).toEqual([23n, 24n, 25n, 26n, 27n, 28n, 29n]);
  });
});

describe("rewindTo: exact sequence of a reorg below the cursor", () => {
  it("walks back to the common ancestor, undoes amounts, forgets the removed events, keeps seq", () => {
    // fork a: lock at 10, update at 12, deposit at 14; cursor 15
    let s = applied(applyRange(start(), range("a", 10n, 11n, [locked("a", 10n, 1n, 30n)]), opts)).state;
    s = applied(
      applyRange(s, range("a", 12n, 15n, [lockUpdate("a", 12n, 1n, 2n, 40n), deposit("a", 14n, 1n)]), opts),
    ).state;
    expect(s.nextSeq).toBe(3);
    // the L1 now has fork b from block 12 on (11 still canonical): the next read does not link
    const next = range("b", 16n, 16n, [], "b");
    expect(applyRange(s, next, opts).kind).toBe("parentMismatch");
    // the driver probes candidates newest first against the canonical chain (fork b above 11)
    const canonical = (n: bigint): Hex => (n >= 12n ? hash("b", n) : hash("a", n));
    const ancestor = walkBackCandidates(s).find((b) => b.hash === canonical(b.number));
    expect(ancestor?.number).toBe(11n);
    const { state, reorg } = rewindTo(s, 11n);
    expect(reorg.ancestor).toEqual({ number: 11n, hash: hash("a", 11n) });
    expect(reorg.removed.map((b) => b.number)).toEqual([12n, 14n, 15n]);
    expect(reorg.forgotten).toEqual({ fromSeq: 1, toSeq: 3 });
    expect(state.amounts.get(1n)).toBe(30n);
    expect(state.nextSeq).toBe(3);
    // fork b: a different update at 13; seq continues, delta from the restored amount
    const b = applied(
      applyRange(state, range("b", 12n, 16n, [lockUpdate("b", 13n, 1n, 2n, 31n)], "a"), opts),
    );
    expect(b.events).toHaveLength(1);
    expect(b.events[0]).toMatchObject({
      seq: 3,
      change: { kind: "increase", amount: 1n },
      l1: { blockHash: hash("b", 13n) },
    });
  });

  it("undoes an unlock-complete and a lock in the same removed block", () => {
    let s = applied(applyRange(start(), range("a", 10n, 10n, [locked("a", 10n, 1n, 30n)]), opts)).state;
    const unlocked = log("a", 11n, contracts.lockingPool, "Unlocked", {
      owner,
      sequencerId: 1n,
      nonce: 3n,
      amount: 30n,
      total: 0n,
    });
    s = applied(applyRange(s, range("a", 11n, 11n, [unlocked, locked("a", 11n, 2n, 50n)]), opts)).state;
    expect([...s.amounts]).toEqual([[2n, 50n]]);
    const { state } = rewindTo(s, 10n);
    expect([...state.amounts]).toEqual([[1n, 30n]]);
  });

  it("refuses an ancestor it does not remember", () => {
    expect(() => rewindTo(start(), 3n)).toThrow(
      expect.objectContaining({ code: L1ListenerErrorCode.ReorgTooDeep }),
    );
  });
});
