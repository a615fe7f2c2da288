import { describe, expect, it } from "vitest";
import type { BlockHeaderData } from "../types.ts";
import { fakeExponential, nextBaseFee } from "./fees.ts";

const header = (gasUsed: bigint, baseFee: bigint): BlockHeaderData =>
  ({ gasLimit: 200_000_000n, gasUsed, baseFeePerGas: baseFee }) as BlockHeaderData;

describe("fee math", () => {
  it("EIP-1559 next base fee moves by at most 1/8 toward the target", () => {
    expect(nextBaseFee(header(100_000_000n, 1000n))).toBe(1000n);
    expect(nextBaseFee(header(200_000_000n, 1000n))).toBe(1125n);
    expect(nextBaseFee(header(0n, 1000n))).toBe(875n);
    // execution-apis chain, block 0x1b: the next base fee its eth_feeHistory fixture reports.
    expect(nextBaseFee(header(0x23948n, 0x3b9aca00n))).toBe(0x342a385an);
  });

  it("EIP-4844 fake_exponential", () => {
    expect(fakeExponential(1n, 0n, 3_338_477n)).toBe(1n);
    expect(fakeExponential(1n, 10_000_000n, 3_338_477n)).toBe(19n);
  });
});
