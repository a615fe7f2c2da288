import { isDseqError } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { lockChange, pubkeyOf, recipientOf, record, signerOf, TOKEN } from "../test/chain.ts";
import {
  applyStakeChange,
  createStakeRegistry,
  stakeChangeError,
  stakeChangesError,
} from "./applyStakeChange.ts";

describe("stake changes", () => {
  const base = createStakeRegistry([record(1, 50_000n), record(2, 30_000n)]);

  it("applies every kind of change without touching the input", () => {
    let r = applyStakeChange(base, lockChange(3, 20_000n));
    expect(r.get(3)?.locked).toBe(20_000n * TOKEN);
    expect(r.get(3)?.status).toBe("active");
    r = applyStakeChange(r, { kind: "increase", id: 1, amount: 5_000n * TOKEN });
    expect(r.get(1)?.locked).toBe(55_000n * TOKEN);
    r = applyStakeChange(r, { kind: "withdraw", id: 1, amount: 30_000n * TOKEN });
    expect(r.get(1)?.locked).toBe(25_000n * TOKEN);
    r = applyStakeChange(r, {
      kind: "signerUpdate",
      id: 2,
      signer: signerOf(20),
      signerPubkey: pubkeyOf(20),
    });
    expect(r.get(2)?.signer).toBe(signerOf(20));
    r = applyStakeChange(r, { kind: "rewardRecipientUpdate", id: 2, rewardRecipient: recipientOf(9) });
    expect(r.get(2)?.rewardRecipient).toBe(recipientOf(9));
    r = applyStakeChange(r, { kind: "unlockStart", id: 2 });
    expect(r.get(2)?.status).toBe("unlocking");
    r = applyStakeChange(r, { kind: "unlockComplete", id: 2 });
    expect(r.has(2)).toBe(false);
    expect(base.get(1)?.locked).toBe(50_000n * TOKEN);
    expect(base.has(3)).toBe(false);
  });

  it("refuses structurally impossible changes with a stable code", () => {
    const cases = [
      lockChange(1, 20_000n),
      { ...lockChange(3, 20_000n), signer: signerOf(2) },
      { kind: "increase", id: 9, amount: 1n } as const,
      { kind: "withdraw", id: 1, amount: 60_000n * TOKEN } as const,
      { kind: "unlockComplete", id: 1 } as const,
      { kind: "signerUpdate", id: 1, signer: signerOf(2), signerPubkey: pubkeyOf(2) } as const,
    ];
    for (const c of cases) {
      expect(stakeChangeError(base, c), c.kind).toBeTypeOf("string");
      try {
        applyStakeChange(base, c);
        expect.unreachable(c.kind);
      } catch (err) {
        expect(isDseqError(err, "ROTATION_INVALID_STAKE_CHANGE")).toBe(true);
      }
    }
    expect(() =>
      applyStakeChange(base, {
        kind: "signerUpdate",
        id: 1,
        signer: "0xABC" as `0x${string}`,
        signerPubkey: "0x",
      }),
    ).toThrow(/lower-case/);
  });

  it("checks a block's change list in order, as block validation does", () => {
    expect(
      stakeChangesError(base, [lockChange(3, 20_000n), { kind: "increase", id: 3, amount: 1n }]),
    ).toBeUndefined();
    expect(
      stakeChangesError(base, [
        { kind: "unlockStart", id: 1 },
        { kind: "unlockStart", id: 1 },
      ]),
    ).toEqual({
      index: 1,
      reason: "sequencer 1 is already unlocking",
    });
  });

  it("refuses duplicate ids or signers in a registry", () => {
    expect(() => createStakeRegistry([record(1, 20_000n), record(1, 30_000n)])).toThrow(/duplicate/);
    expect(() =>
      createStakeRegistry([record(1, 20_000n), { ...record(2, 20_000n), signer: signerOf(1) }]),
    ).toThrow(/duplicate signer/);
  });
});
