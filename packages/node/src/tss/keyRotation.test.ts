import type { Hex } from "@dseq/common";
import { createPartyKey, type PartyId } from "@dseq/mpc-tss";
import { describe, expect, it } from "vitest";
import {
  type RotationEffect,
  type RotationInput,
  type RotationState,
  signingKey,
  stepRotation,
} from "./keyRotation.ts";
import { decodeRotationState, encodeRotationState } from "./rotationStateFile.ts";

const [a, b, c, d, e] = Array.from({ length: 5 }, () => createPartyKey().id) as [
  PartyId,
  PartyId,
  PartyId,
  PartyId,
  PartyId,
];
const vs = (...ps: PartyId[]) => ps.map((party) => ({ party, power: 10n }));
const K1 = `0x02${"11".repeat(32)}` as Hex;
const K2 = `0x03${"22".repeat(32)}` as Hex;
const K3 = `0x02${"33".repeat(32)}` as Hex;

function run(inputs: RotationInput[], s: RotationState = {}) {
  const all: RotationEffect[] = [];
  for (const i of inputs) {
    const r = stepRotation(s, i);
    s = r.state;
    all.push(...r.effects);
  }
  return { s, effects: all, kinds: all.map((x) => x.type).filter((t) => t !== "log" && t !== "members") };
}

describe("key rotation state machine", () => {
  it("genesis: the first DKG's key is in force at once; the same set in the next span changes nothing", () => {
    const { s, effects, kinds } = run([
      { type: "spanStarted", span: 0n, validators: vs(a, b, c, d), self: a },
      { type: "dkgDone", span: 0n, attempt: 0, groupKey: K1 },
      { type: "spanStarted", span: 1n, validators: vs(d, c, b, a), self: a },
    ]);
    expect(kinds).toEqual(["runDkg"]);
    expect(effects.find((x) => x.type === "runDkg")).toMatchObject({ span: 0n, threshold: 3, attempt: 0 });
    expect(signingKey(s)?.groupKey).toBe(K1);
    expect(s.pending).toBeUndefined();
  });

  it("a new set: DKG, pending until rotated, old key signs meanwhile; a stale dkgDone is ignored", () => {
    const g = run([
      { type: "spanStarted", span: 0n, validators: vs(a, b, c, d), self: a },
      { type: "dkgDone", span: 0n, attempt: 0, groupKey: K1 },
      { type: "spanStarted", span: 5n, validators: vs(a, b, c, d, e), self: a },
      { type: "dkgFailed", span: 5n, attempt: 0 },
      { type: "dkgDone", span: 5n, attempt: 0, groupKey: K3 }, // from the failed attempt: ignored
      { type: "dkgDone", span: 5n, attempt: 1, groupKey: K2 },
    ]);
    expect(g.kinds).toEqual(["runDkg", "runDkg", "runDkg"]);
    expect(signingKey(g.s)?.groupKey).toBe(K1);
    expect(g.s.pending?.groupKey).toBe(K2);
    expect(g.s.pending?.epoch).toBe(5);
    const members = g.effects.filter((x) => x.type === "members").at(-1);
    expect(members).toMatchObject({ parties: [a, b, c, d, e].sort() });
    const r = stepRotation(g.s, { type: "rotated", groupKey: K2, self: a });
    expect(r.effects.map((x) => x.type)).toContain("confirmShare");
    expect(r.effects.find((x) => x.type === "confirmShare")).toEqual({ type: "confirmShare", epoch: 5 });
    expect(signingKey(r.state)?.groupKey).toBe(K2);
    expect(r.state.pending).toBeUndefined();
  });

  it("one rotation at a time: a set during a pending rotation waits, then gets its DKG", () => {
    const g = run([
      { type: "spanStarted", span: 0n, validators: vs(a, b, c, d), self: a },
      { type: "dkgDone", span: 0n, attempt: 0, groupKey: K1 },
      { type: "spanStarted", span: 5n, validators: vs(a, b, c, d, e), self: a },
      { type: "dkgDone", span: 5n, attempt: 0, groupKey: K2 },
      { type: "spanStarted", span: 9n, validators: vs(a, b, c, e), self: a },
    ]);
    expect(g.kinds).toEqual(["runDkg", "runDkg"]);
    expect(g.s.queued?.span).toBe(9n);
    const r = stepRotation(g.s, { type: "rotated", groupKey: K2, self: a });
    expect(r.effects.map((x) => x.type).filter((t) => t !== "log" && t !== "members")).toEqual([
      "confirmShare",
      "runDkg",
    ]);
    expect(r.state.dkg?.span).toBe(9n);
    expect(r.state.queued).toBeUndefined();
  });

  it("a member that leaves keeps signing with the old key until the rotation lands, then stops", () => {
    const g = run([
      { type: "spanStarted", span: 0n, validators: vs(a, b, c, d), self: d },
      { type: "dkgDone", span: 0n, attempt: 0, groupKey: K1 },
      { type: "spanStarted", span: 5n, validators: vs(a, b, c, e), self: d },
    ]);
    expect(g.kinds).toEqual(["runDkg"]);
    expect(signingKey(g.s)?.groupKey).toBe(K1);
    const r = stepRotation(g.s, { type: "rotated", groupKey: K2, self: d });
    expect(signingKey(r.state)).toBeUndefined();
    expect(r.state.current?.groupKey).toBe(K2);
    expect(r.state.current?.validators.map((v) => v.party)).toEqual([a, b, c, e].sort());
    // a replay of the same rotation changes nothing
    expect(stepRotation(r.state, { type: "rotated", groupKey: K2, self: d }).state).toBe(r.state);
    // out of the group, it follows L1's later keys (still holding no share of them)
    const later = stepRotation(r.state, { type: "rotated", groupKey: K3, self: d }).state;
    expect(later.current).toMatchObject({ groupKey: K3, holder: false });
  });

  it("every confirmed key reaches it (ADR 0151): one it expects no rotation to changes nothing", () => {
    // A member of the newest set: a replayed older rotation, or one that lands before its own
    // DKG is done, must not take its key away.
    const member = run([
      { type: "spanStarted", span: 0n, validators: vs(a, b, c, d), self: a },
      { type: "dkgDone", span: 0n, attempt: 0, groupKey: K1 },
    ]).s;
    const stale = stepRotation(member, { type: "rotated", groupKey: K3, self: a });
    expect(stale.state).toBe(member);
    expect(stale.effects.map((x) => x.type)).toEqual(["log"]);
    expect(signingKey(stale.state)?.groupKey).toBe(K1);
    const midDkg = run([{ type: "spanStarted", span: 5n, validators: vs(a, b, c, d, e), self: a }], member).s;
    expect(stepRotation(midDkg, { type: "rotated", groupKey: K3, self: a }).state).toBe(midDkg);
    // A joiner with no key yet: L1's key (the genesis one) is not a reason to leave anything.
    const joiner = run([{ type: "spanStarted", span: 0n, validators: vs(a, b, c, d), self: e }]).s;
    const first = stepRotation(joiner, { type: "rotated", groupKey: K1, self: e });
    expect(first.state).toBe(joiner);
    const joined = run(
      [
        { type: "spanStarted", span: 5n, validators: vs(a, b, c, d, e), self: e },
        { type: "dkgDone", span: 5n, attempt: 0, groupKey: K2 },
      ],
      first.state,
    ).s;
    // its first key is the one its store holds as active: in force at once, as at genesis
    expect(signingKey(joined)?.groupKey).toBe(K2);
  });

  it("a new set that arrives mid-DKG stops it and starts the newer one", () => {
    const g = run([
      { type: "spanStarted", span: 0n, validators: vs(a, b, c, d), self: a },
      { type: "spanStarted", span: 1n, validators: vs(a, b, c, d, e), self: a },
    ]);
    expect(g.kinds).toEqual(["runDkg", "stopDkg", "runDkg"]);
    expect(g.s.dkg?.span).toBe(1n);
  });

  it("the state file round-trips and rejects anything else", () => {
    const g = run([
      { type: "spanStarted", span: 0n, validators: vs(a, b, c, d), self: a },
      { type: "dkgDone", span: 0n, attempt: 0, groupKey: K1 },
      { type: "spanStarted", span: 5n, validators: vs(a, b, c, d, e), self: a },
    ]);
    expect(decodeRotationState(encodeRotationState(g.s))).toEqual(g.s);
    expect(() => decodeRotationState("{")).toThrow(
      expect.objectContaining({ code: "NODE_TSS_STATE_CORRUPT" }),
    );
    const bad = JSON.parse(encodeRotationState(g.s));
    bad.current.groupKey = "0x04";
    expect(() => decodeRotationState(JSON.stringify(bad))).toThrow(/does not decode/);
    expect(() =>
      decodeRotationState(JSON.stringify({ ...JSON.parse(encodeRotationState(g.s)), extra: 1 })),
    ).toThrow();
  });
});
