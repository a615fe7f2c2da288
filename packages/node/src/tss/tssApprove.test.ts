import type { Hex } from "@dseq/common";
import { createPartyKey, type PartyId, type SignContext } from "@dseq/mpc-tss";
import { describe, expect, it } from "vitest";
import type { TssEpochKey } from "./keyRotation.ts";
import { type TssRefusal, tssApprove } from "./tssApprove.ts";

const ps = Array.from({ length: 4 }, () => createPartyKey().id) as PartyId[];
const GK = `0x02${"aa".repeat(32)}` as Hex;
const key: TssEpochKey = {
  epoch: 0,
  groupKey: GK,
  validators: ps.map((party, i) => ({ party, power: i === 0 ? 10n : 1n })), // total 13
  threshold: 4,
  holder: true,
};
const ctx = (signers: PartyId[], groupKey = GK): SignContext => ({
  sessionId: `0x${"00".repeat(32)}`,
  coordinator: ps[1] as PartyId,
  groupKey,
  epoch: 0,
  signers,
  context: {},
});

describe("tssApprove", () => {
  it("refuses unknown keys, non-digests and signing sets without > 2/3 power before asking the policy", async () => {
    const refusals: TssRefusal[] = [];
    let asked = 0;
    const approve = tssApprove({
      keyOf: (gk) => (gk === GK ? key : undefined),
      approve: () => {
        asked++;
        return true;
      },
      onRefusal: (r) => refusals.push(r),
    });
    const digest = new Uint8Array(32);
    expect(await approve(digest, ctx([ps[1], ps[2], ps[3]] as PartyId[]))).toBe(false); // 3 of 13
    expect(await approve(digest, ctx(ps, `0x03${"bb".repeat(32)}` as Hex))).toBe(false);
    expect(await approve(new Uint8Array(33), ctx(ps))).toBe(false);
    expect(asked).toBe(0);
    expect(refusals).toEqual(["power", "unknown_key", "digest"]);
    expect(await approve(digest, ctx([ps[0], ps[1]] as PartyId[]))).toBe(true); // 11 of 13
    expect(asked).toBe(1);
  });

  it("the caller's refusal (or a non-true answer) refuses", async () => {
    const refusals: TssRefusal[] = [];
    const approve = tssApprove({
      keyOf: () => key,
      approve: () => false,
      onRefusal: (r) => refusals.push(r),
    });
    expect(await approve(new Uint8Array(32), ctx(ps))).toBe(false);
    expect(refusals).toEqual(["policy"]);
  });

  it("a rotation must name this node's pending key and match the inbox's rotation digest", async () => {
    const refusals: TssRefusal[] = [];
    const NEW = `0x03${"cc".repeat(32)}` as Hex;
    const want = new Uint8Array(32).fill(9);
    const approve = tssApprove({
      keyOf: () => key,
      approve: () => true,
      pendingKey: () => NEW,
      rotationDigest: (k) => (k === NEW ? want : new Uint8Array(32)),
      onRefusal: (r) => refusals.push(r),
    });
    const rot = (newKey: unknown): SignContext => ({ ...ctx(ps), context: { kind: "rotation", newKey } });
    expect(await approve(want, rot(NEW))).toBe(true);
    expect(await approve(want, rot(`0x02${"dd".repeat(32)}`))).toBe(false);
    expect(await approve(new Uint8Array(32).fill(8), rot(NEW))).toBe(false);
    expect(await approve(want, rot(42))).toBe(false);
    expect(refusals).toEqual(["rotation", "rotation", "rotation"]);
  });
});
