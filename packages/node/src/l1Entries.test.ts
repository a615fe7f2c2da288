import { l1EntriesToWithdrawals } from "@dseq/l2-exec";
import { describe, expect, it } from "vitest";
import { checkL1Entries } from "./checkL1Entries.ts";
import { decodeBlockEntries, entriesToL1Entries, type L2Entry, type WithdrawalView } from "./l1Entries.ts";

const a = (n: number): `0x${string}` => `0x${n.toString(16).padStart(40, "0")}`;
const lock: L2Entry = {
  type: "stake",
  index: 1n,
  l1BlockHash: `0x${"ab".repeat(32)}`,
  logIndex: 3,
  sequencerId: 5n,
  nonce: 1n,
  change: {
    kind: "lock",
    id: 5,
    owner: a(1),
    signer: a(2),
    signerPubkey: `0x${"cd".repeat(64)}`,
    amount: 20_000n * 10n ** 18n,
    rewardRecipient: a(3),
  },
};
const deposit: L2Entry = { type: "deposit", index: 0n, to: a(9), amount: 7n * 10n ** 9n };
const increase: L2Entry = {
  ...lock,
  index: 2n,
  logIndex: 4,
  nonce: 2n,
  change: { kind: "increase", id: 5, amount: 1n },
};

/** The withdrawals a block built with these entries carries (address as the block reads it). */
const carried = (es: L2Entry[]): WithdrawalView[] =>
  l1EntriesToWithdrawals(entriesToL1Entries(es)).map((w) => ({
    index: w.index as bigint,
    validatorIndex: w.validatorIndex as bigint,
    address: { toString: () => String(w.address) },
    amount: w.amount as bigint,
  }));

describe("L1 entries in withdrawals (ADR 0120)", () => {
  it("round-trips deposits and stake changes; a lock is a run of zero-amount chunks", () => {
    const ws = carried([deposit, lock, increase]);
    expect(ws[0]).toMatchObject({ index: 0n, validatorIndex: 0n, amount: 7n });
    const lockChunks = ws.filter((w) => w.index === 1n);
    expect(lockChunks.length).toBeGreaterThan(5);
    expect(lockChunks.every((w) => w.validatorIndex === 2n && w.amount === 0n)).toBe(true);
    const d = decodeBlockEntries(ws);
    expect(d).toEqual({ ok: true, entries: [deposit, lock, increase] });
  });

  it("refuses malformed runs: a credited chunk, non-zero padding, an unknown kind", () => {
    const ws = carried([lock]);
    const credited = ws.map((w, i) => (i === 0 ? { ...w, amount: 1n } : w));
    expect(decodeBlockEntries(credited)).toMatchObject({ ok: false });
    const last = ws[ws.length - 1]!;
    const padded = [...ws.slice(0, -1), { ...last, address: { toString: () => `0x${"ff".repeat(20)}` } }];
    expect(decodeBlockEntries(padded)).toMatchObject({ ok: false });
    expect(decodeBlockEntries([{ ...ws[0]!, validatorIndex: 7n }])).toMatchObject({ ok: false });
    expect(decodeBlockEntries(ws.slice(0, 2))).toMatchObject({ ok: false });
  });

  it("checks density and each entry against the validator's own L1 view", () => {
    const mine = new Map<bigint, L2Entry>([
      [0n, deposit],
      [1n, lock],
    ]);
    const view = { next: 0n, confirmed: (i: bigint) => mine.get(i) };
    expect(checkL1Entries(carried([deposit, lock]), view)).toMatchObject({ ok: true });
    // Not from the parent's next index: a gap or a replay.
    expect(checkL1Entries(carried([lock]), view)).toMatchObject({ ok: false, verdict: "wrong" });
    expect(checkL1Entries(carried([deposit]), { ...view, next: 1n })).toMatchObject({
      ok: false,
      verdict: "wrong",
    });
    // Known and different: wrong at once.
    const other = { ...deposit, amount: deposit.amount + 10n ** 9n };
    expect(checkL1Entries(carried([other]), view)).toMatchObject({ ok: false, verdict: "wrong" });
    // Beyond this node's confirmed view: unverifiable (it waits, then nil).
    expect(checkL1Entries(carried([deposit, lock, increase]), view)).toMatchObject({
      ok: false,
      verdict: "unverifiable",
      index: 2n,
    });
    // A node without L1 takes no entries, but empty blocks are fine.
    expect(checkL1Entries(carried([deposit]), { next: 0n })).toMatchObject({ ok: false, verdict: "wrong" });
    expect(checkL1Entries([], { next: 0n })).toEqual({ ok: true, entries: [] });
  });
});
