import { describe, expect, it } from "vitest";
import { batchKindOf, l1MiningOf } from "./genesisStake.ts";

describe("devnet batch kinds and L1 mining (ADR 0186)", () => {
  it("alternate: validators 1, 3, ... post blobs, 2, 4, ... calldata; default calldata", () => {
    expect([0, 1, 2, 3].map((i) => batchKindOf("alternate", i))).toEqual([
      "blobs",
      "calldata",
      "blobs",
      "calldata",
    ]);
    expect([0, 1].map((i) => batchKindOf(undefined, i))).toEqual(["calldata", "calldata"]);
    expect([0, 1].map((i) => batchKindOf("blobs", i))).toEqual(["blobs", "blobs"]);
  });

  it("blob batches default the dev L1 to the ticker; calldata or no batches keep interval mining", () => {
    expect(l1MiningOf({})).toBe("interval");
    expect(l1MiningOf({ batches: false })).toBe("interval");
    expect(l1MiningOf({ batches: { kind: "calldata" } })).toBe("interval");
    expect(l1MiningOf({ batches: { kind: "blobs" } })).toBe("ticker");
    expect(l1MiningOf({ batches: { kind: "alternate" } })).toBe("ticker");
    expect(l1MiningOf({ mining: "ticker" })).toBe("ticker");
    expect(l1MiningOf({ mining: "interval", batches: { kind: "blobs" } })).toBe("interval");
  });
});
