import { describe, expect, it } from "vitest";
import { defaultFeeOptions, nextBlobFee, nextFees } from "./sendBatchTx.ts";
import type { SentTx } from "./submitterState.ts";

const gwei = 10n ** 9n;
const prev: SentTx = {
  hash: `0x${"11".repeat(32)}`,
  gas: 100_000n,
  maxFeePerGas: 20n * gwei,
  maxPriorityFeePerGas: 2n * gwei,
  maxFeePerBlobGas: 10n * gwei,
  sentAtMs: 0,
};

describe("replacement fees", () => {
  it("first offer: the estimate, and twice the blob base fee", () => {
    expect(
      nextFees({ maxFeePerGas: 30n * gwei, maxPriorityFeePerGas: gwei }, undefined, defaultFeeOptions),
    ).toEqual({
      maxFeePerGas: 30n * gwei,
      maxPriorityFeePerGas: gwei,
    });
    expect(nextBlobFee(5n, undefined, defaultFeeOptions)).toBe(11n);
  });

  it("a replacement bumps both the fee cap and the tip by at least 15 %, and the blob fee by 100 % (geth's blob pool rule)", () => {
    const f = nextFees({ maxFeePerGas: 10n * gwei, maxPriorityFeePerGas: gwei }, prev, defaultFeeOptions);
    expect(f.maxFeePerGas).toBeGreaterThanOrEqual((prev.maxFeePerGas * 115n) / 100n);
    expect(f.maxPriorityFeePerGas).toBeGreaterThanOrEqual((prev.maxPriorityFeePerGas * 115n) / 100n);
    expect(nextBlobFee(gwei, prev, defaultFeeOptions)).toBeGreaterThanOrEqual(2n * prev.maxFeePerBlobGas!);
    // A higher market estimate wins over the bump.
    expect(
      nextFees({ maxFeePerGas: 90n * gwei, maxPriorityFeePerGas: 9n * gwei }, prev, defaultFeeOptions)
        .maxFeePerGas,
    ).toBe(90n * gwei);
    expect(nextBlobFee(50n * gwei, prev, defaultFeeOptions)).toBe(100n * gwei + 1n);
  });

  it("never offers more than the cap, and the tip never exceeds the fee cap", () => {
    const o = { ...defaultFeeOptions, maxFeePerGasCap: 21n * gwei };
    const f = nextFees({ maxFeePerGas: 10n * gwei, maxPriorityFeePerGas: 30n * gwei }, prev, o);
    expect(f.maxFeePerGas).toBe(21n * gwei);
    expect(f.maxPriorityFeePerGas).toBe(21n * gwei);
  });
});
