import { describe, expect, it } from "vitest";
import { drawSpan } from "./drawSpan.ts";
import type { SpanInfo } from "./scheduleTypes.ts";
import { trackMiss } from "./trackMiss.ts";
import type { Address, CommittedBlock, Validator, ValidatorSet } from "./types.ts";

const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}` as Address;
const validator = (n: number): Validator => ({
  id: n,
  address: addr(n),
  publicKey: "0x",
  power: 10n,
  cappedStake: 10n,
  rewardRecipient: addr(n),
});
const set = (...ns: number[]): ValidatorSet => ({
  validators: ns.map(validator),
  totalPower: 10n * BigInt(ns.length),
  totalCappedStake: 10n * BigInt(ns.length),
});
const SEED = `0x${"ab".repeat(32)}` as const;
const block = (height: number, proposer: Address): CommittedBlock => ({
  height,
  hash: `0x${"01".repeat(32)}`,
  round: 1,
  proposer,
  timestamp: height,
});

describe("trackMiss", () => {
  const span: SpanInfo = drawSpan(SEED, 100, 0, set(1, 2, 3), false);
  const sequencer = span.elections[0]!.sequencer;
  const other = [addr(1), addr(2), addr(3)].find((a) => a !== sequencer)!;

  it("resets the streak when the sequencer's block is committed", () => {
    expect(trackMiss({ span, missStreak: 2 }, 3, sequencer, block(5, sequencer))).toEqual({
      span,
      missStreak: 0,
    });
  });

  it("counts misses, then re-elects someone else from the next height and resets", () => {
    const once = trackMiss({ span, missStreak: 0 }, 2, sequencer, block(5, other));
    expect(once).toEqual({ span, missStreak: 1 });
    const twice = trackMiss(once, 2, sequencer, block(6, other));
    expect(twice.missStreak).toBe(0);
    expect(twice.reelection).toMatchObject({
      span: 0,
      atHeight: 6,
      replaced: sequencer,
      election: 1,
      fromHeight: 7,
    });
    expect(twice.reelection!.sequencer).not.toBe(sequencer);
    expect(twice.span.elections.at(-1)).toEqual({
      election: 1,
      fromHeight: 7,
      sequencer: twice.reelection!.sequencer,
    });
  });

  it("does not re-elect at the span's last height, nor when nobody else is there", () => {
    expect(
      trackMiss({ span, missStreak: 5 }, 2, sequencer, block(span.endHeight, other)).reelection,
    ).toBeUndefined();
    const alone = drawSpan(SEED, 100, 0, set(1), false);
    expect(trackMiss({ span: alone, missStreak: 5 }, 2, addr(1), block(5, addr(2)))).toEqual({
      span: alone,
      missStreak: 0,
    });
  });
});
