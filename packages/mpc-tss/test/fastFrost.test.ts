import { DseqError, utf8ToBytes } from "@dseq/common";
import type { DKG_Round1, DKG_Secret } from "@noble/curves/abstract/frost.js";
import type { TArg } from "@noble/curves/utils.js";
import { describe, expect, it } from "vitest";
import { TssErrorCode } from "../src/errors.ts";
import { FrostAggregateError, fastFrost } from "../src/fastFrost.ts";
import { Fn, frost, identifierAt } from "../src/suite.ts";

/** A DKG among n parties run with noble's rounds 1 and 2; part 3 is left to the caller. */
function dkgUpToRound3(n: number, t: number) {
  const ids = Array.from({ length: n }, (_, i) => identifierAt(i));
  const r1 = ids.map((id) => frost.DKG.round1(id, { min: t, max: n }));
  const r2 = ids.map((_, i) =>
    frost.DKG.round2(
      r1[i]!.secret,
      r1.filter((_, j) => j !== i).map((x) => x.public),
    ),
  );
  const inputs = ids.map((id, i) => ({
    secret: r1[i]!.secret,
    round1: r1.filter((_, j) => j !== i).map((x) => x.public) as TArg<DKG_Round1>[],
    round2: ids
      .map((_, j) => j)
      .filter((j) => j !== i)
      .map((j) => r2[j]![id]!),
  }));
  return { ids, inputs };
}

describe("fastFrost against noble", () => {
  for (const [n, t] of [
    [4, 3],
    [7, 5],
  ] as const) {
    it(`DKG part 3 (${t}-of-${n}) gives noble's key byte for byte; a wrong share is refused`, () => {
      const { inputs } = dkgUpToRound3(n, t);
      for (const { secret, round1, round2 } of inputs) {
        const mine = structuredClone(secret) as DKG_Secret;
        const forBad = structuredClone(secret) as DKG_Secret;
        const want = frost.DKG.round3(secret, round1, round2);
        const got = fastFrost.dkgRound3(mine, round1, round2);
        expect(got).toEqual(want);
        expect(mine.coefficients?.every((c) => c === 0n) ?? true).toBe(true); // the polynomial is wiped
        expect(mine.step).toBe(3); // and the secret cannot be used again
        const bad = round2.map((r, i) =>
          i === 1 ? { ...r, signingShare: Fn.toBytes(Fn.add(Fn.fromBytes(r.signingShare), 1n)) } : r,
        );
        expect(() => fastFrost.dkgRound3(forBad, round1, bad)).toThrow(/invalid secret share/);
      }
    });
  }

  it("signing: same nonces give noble's shares and signature; refusals and culprits match", () => {
    const n = 7;
    const t = 5;
    const { ids, inputs } = dkgUpToRound3(n, t);
    const keys = inputs.map(({ secret, round1, round2 }) => frost.DKG.round3(secret, round1, round2));
    const pub = keys[0]!.public;
    for (let round = 0; round < 5; round++) {
      const msg = utf8ToBytes(`batch ${round}`);
      const chosen = [0, 2, 3, 5, 6, 1].slice(0, t + (round % 2)); // t or t+1 signers
      const commits = chosen.map((i) => fastFrost.commit(keys[i]!.secret));
      const list = commits.map((c) => c.commitments);
      const shares: Record<string, Uint8Array> = {};
      for (const [k, i] of chosen.entries()) {
        const nonceA = structuredClone(commits[k]!.nonces);
        const nonceB = structuredClone(commits[k]!.nonces);
        const z = fastFrost.signShare(keys[i]!.secret, pub, nonceA, list, msg);
        expect(z).toEqual(frost.signShare(keys[i]!.secret, pub, nonceB, list, msg));
        // The nonces are spent: a second use is refused.
        expect(() => fastFrost.signShare(keys[i]!.secret, pub, nonceA, list, msg)).toThrow(/already used/);
        expect(fastFrost.verifyShare(pub, list, msg, ids[i]!, z)).toBe(true);
        expect(fastFrost.verifyShare(pub, list, utf8ToBytes("other"), ids[i]!, z)).toBe(false);
        shares[ids[i]!] = z;
      }
      const sig = fastFrost.aggregate(pub, list, msg, shares);
      expect(sig).toEqual(frost.aggregate(pub, list, msg, shares));
      expect(frost.verify(sig, msg, pub.commitments[0]!)).toBe(true);

      const liar = ids[chosen[1]!]!;
      const tampered = { ...shares, [liar]: Fn.toBytes(Fn.add(Fn.fromBytes(shares[liar]!), 1n)) };
      const err = (() => {
        try {
          fastFrost.aggregate(pub, list, msg, tampered);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(FrostAggregateError);
      expect((err as FrostAggregateError).cheaters).toEqual([liar]);
      expect(err).toBeInstanceOf(DseqError);
      expect((err as FrostAggregateError).code).toBe(TssErrorCode.FrostAggregate);
    }
  });

  it("refuses what noble refuses: foreign commitments, too few signers, off-curve points", () => {
    const { ids, inputs } = dkgUpToRound3(4, 3);
    const keys = inputs.map(({ secret, round1, round2 }) => frost.DKG.round3(secret, round1, round2));
    const pub = keys[0]!.public;
    const msg = utf8ToBytes("m");
    const c = [0, 1, 2].map((i) => fastFrost.commit(keys[i]!.secret));
    const list = c.map((x) => x.commitments);
    // Someone else's nonce commitment in our slot.
    const swapped = list.map((x, i) => (i === 0 ? { ...x, hiding: list[1]!.hiding } : x));
    expect(() => fastFrost.signShare(keys[0]!.secret, pub, c[0]!.nonces, swapped, msg)).toThrow(
      /incorrect signer commitment/,
    );
    expect(() => fastFrost.signShare(keys[3]!.secret, pub, c[0]!.nonces, list, msg)).toThrow(/missing/);
    expect(() => fastFrost.signShare(keys[0]!.secret, pub, c[0]!.nonces, list.slice(0, 2), msg)).toThrow(
      /Wrong number/,
    );
    const offCurve = new Uint8Array(33).fill(0xff);
    offCurve[0] = 2;
    const broken = list.map((x, i) => (i === 2 ? { ...x, binding: offCurve } : x));
    expect(() => fastFrost.signShare(keys[0]!.secret, pub, c[0]!.nonces, broken, msg)).toThrow();
    expect(fastFrost.verifyShare(pub, broken, msg, ids[0]!, new Uint8Array(32).fill(1))).toBe(false);
  });
});
