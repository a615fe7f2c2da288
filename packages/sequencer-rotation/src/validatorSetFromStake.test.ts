import { describe, expect, it } from "vitest";
import { record, signerOf, TOKEN } from "../test/chain.ts";
import { createRotationParams, defaultRotationParams } from "./params.ts";
import { cappedStake, validatorSetFromStake, votingPower } from "./validatorSetFromStake.ts";

const params = defaultRotationParams;

describe("validator set from stake", () => {
  it("uses whole tokens of the locked amount, capped at the max lock", () => {
    expect(votingPower(20_000n * TOKEN, params)).toBe(20_000n);
    expect(votingPower(20_000n * TOKEN + TOKEN / 2n, params)).toBe(20_000n);
    expect(votingPower(100_000n * TOKEN, params)).toBe(100_000n);
    expect(votingPower(250_000n * TOKEN, params)).toBe(100_000n);
    expect(cappedStake(250_000n * TOKEN, params)).toBe(100_000n * TOKEN);
    expect(votingPower(20_000n * TOKEN - 1n, params)).toBe(0n);
  });

  it("keeps only active records at or above the min lock, ordered by signer", () => {
    const set = validatorSetFromStake(
      [
        record(3, 150_000n),
        record(1, 20_000n),
        record(2, 19_999n),
        record(4, 50_000n, "unlocking"),
        record(5, 100_000n),
      ],
      params,
    );
    expect(set.validators.map((v) => v.id)).toEqual([1, 3, 5]);
    expect(set.validators.map((v) => v.address)).toEqual([signerOf(1), signerOf(3), signerOf(5)]);
    expect(set.validators.map((v) => v.power)).toEqual([20_000n, 100_000n, 100_000n]);
    expect(set.totalPower).toBe(220_000n);
    expect(set.totalCappedStake).toBe(220_000n * TOKEN);
  });

  it("honours custom limits and decimals", () => {
    const p = createRotationParams({ decimals: 6, minLock: 10n * 10n ** 6n, maxLock: 50n * 10n ** 6n });
    expect(votingPower(75n * 10n ** 6n, p)).toBe(50n);
    expect(votingPower(9n * 10n ** 6n, p)).toBe(0n);
    expect(() => createRotationParams({ maxLock: 1n })).toThrow(/minLock/);
    expect(() => createRotationParams({ spanLength: 0 })).toThrow(/spanLength/);
  });
});
