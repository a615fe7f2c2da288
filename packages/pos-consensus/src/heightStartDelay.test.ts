import { describe, expect, it } from "vitest";
import { heightStartDelay } from "./heightStartDelay.ts";

const opts = { commitDelayMs: 300, maxStartDelayMs: 10_000 };

describe("heightStartDelay", () => {
  it("waits until the start time, at most maxStartDelayMs; falls back to commitDelayMs", () => {
    expect(heightStartDelay(1_700, 1_000, opts)).toEqual({ ms: 700, capped: false });
    expect(heightStartDelay(500, 1_000, opts)).toEqual({ ms: 0, capped: false }); // in the past
    expect(heightStartDelay(1e15, 1_000, opts)).toEqual({ ms: 10_000, capped: true });
    expect(heightStartDelay(Number.POSITIVE_INFINITY, 1_000, opts)).toEqual({ ms: 10_000, capped: true });
    expect(heightStartDelay(Number.NaN, 1_000, opts)).toEqual({ ms: 0, capped: false });
    expect(heightStartDelay(undefined, 1_000, opts)).toEqual({ ms: 300, capped: false });
  });
});
