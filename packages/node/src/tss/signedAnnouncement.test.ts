import type { Hex } from "@dseq/common";
import { createPartyKey, decodeMessage } from "@dseq/mpc-tss";
import { describe, expect, it } from "vitest";
import { coordinatorDelayMs, coordinatorOrder } from "./coordinatorOrder.ts";
import { decodeSignedAnnouncement, encodeSignedAnnouncement } from "./signedAnnouncement.ts";

describe("signed announcement", () => {
  const a = {
    groupKey: `0x02${"ab".repeat(32)}` as Hex,
    digest: new Uint8Array(32).fill(1),
    signature: new Uint8Array(65).fill(2),
  };
  it("round-trips, is strict about length, magic and key prefix, and mpc-tss ignores it", () => {
    const bytes = encodeSignedAnnouncement(a);
    expect(decodeSignedAnnouncement(bytes)).toEqual(a);
    expect(decodeMessage(bytes)).toBeUndefined();
    expect(decodeSignedAnnouncement(bytes.subarray(1))).toBeUndefined();
    expect(decodeSignedAnnouncement(new Uint8Array([...bytes, 0]))).toBeUndefined();
    const bad = bytes.slice();
    bad[2] = 4;
    expect(decodeSignedAnnouncement(bad)).toBeUndefined();
    const magic = bytes.slice();
    magic[0] = 0x7b;
    expect(decodeSignedAnnouncement(magic)).toBeUndefined();
    expect(() => encodeSignedAnnouncement({ ...a, digest: new Uint8Array(31) })).toThrow(RangeError);
  });
});

describe("coordinator order", () => {
  const ps = Array.from({ length: 5 }, () => createPartyKey().id);
  it("leader first, the rest in a per-digest order every node computes alike", () => {
    const d1 = new Uint8Array(32).fill(1);
    const o = coordinatorOrder(ps, d1, ps[3]);
    expect(o[0]).toBe(ps[3]);
    expect([...o].sort()).toEqual([...ps].sort());
    expect(coordinatorOrder([...ps].reverse(), d1, ps[3])).toEqual(o);
    const others = Array.from(
      { length: 8 },
      (_, i) => coordinatorOrder(ps, new Uint8Array(32).fill(i + 2))[0],
    );
    expect(new Set(others).size).toBeGreaterThan(1);
    // a leader that holds no share is skipped
    expect(coordinatorOrder(ps, d1, createPartyKey().id)).toHaveLength(5);
    expect(coordinatorDelayMs(o, o[2]!, 1000)).toBe(2000);
    expect(coordinatorDelayMs(o, createPartyKey().id, 1000)).toBeUndefined();
  });
});
