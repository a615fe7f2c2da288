import { describe, expect, it } from "vitest";
import { accountSlots } from "../bench/single.bench.ts";

describe("pnpm bench single: DSEQ_BENCH_ACCOUNT_SLOTS", () => {
  it("defaults to the node's accountSlots (64) and takes a bounded integer", () => {
    expect(accountSlots(undefined)).toBe(64);
    expect(accountSlots("")).toBe(64);
    expect(accountSlots("256")).toBe(256);
  });

  it("refuses what is not an integer in 1..4096", () => {
    for (const bad of ["0", "-1", "1.5", "4097", "lots"]) {
      expect(() => accountSlots(bad)).toThrow(/DSEQ_BENCH_ACCOUNT_SLOTS must be an integer/);
    }
  });
});
