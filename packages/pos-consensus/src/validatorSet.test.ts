import { bytesToHex } from "@dseq/common";
import { secp256k1 } from "@dseq/crypto";
import { describe, expect, it } from "vitest";
import { CHAIN_ID, makeValidators, signVote } from "../test/fixtures.ts";
import { createCachedVerifier } from "./signer.ts";
import { MsgType } from "./types.ts";
import { staticHeightValidators, ValidatorSet } from "./validatorSet.ts";
import { VoteSet } from "./voteSet.ts";

describe("ValidatorSet", () => {
  it("thresholds are by voting power: +2/3 strictly, f+1 strictly above a third", () => {
    const tv = makeValidators(4, 3, [1, 1, 1, 3]); // total 6
    expect(tv.set.totalPower).toBe(6);
    expect(tv.set.hasQuorum(4)).toBe(false); // exactly 2/3 is not enough
    expect(tv.set.hasQuorum(5)).toBe(true);
    expect(tv.set.hasOneThird(2)).toBe(false);
    expect(tv.set.hasOneThird(3)).toBe(true);
  });

  it("a vote set reaches +2/3 by power, not by count", () => {
    const tv = makeValidators(4, 3, [1, 1, 1, 3]);
    const heavy = tv.set.validators.findIndex((v) => v.power === 3);
    const light = [0, 1, 2, 3].filter((i) => i !== heavy);
    let set = VoteSet.empty(1, 0, MsgType.Precommit, tv.set);
    const verify = createCachedVerifier();
    for (const i of light)
      set = set.add(
        signVote(tv.keys[i]!, tv.addresses[i]!, MsgType.Precommit, 1, 0, null),
        CHAIN_ID,
        verify,
      ).set;
    expect(set.sum).toBe(3);
    expect(set.hasTwoThirdsAny()).toBe(false); // three of four validators, half the power
    set = set.add(
      signVote(tv.keys[heavy]!, tv.addresses[heavy]!, MsgType.Precommit, 1, 0, null),
      CHAIN_ID,
      verify,
    ).set;
    expect(set.twoThirdsMajority()).toBeNull(); // +2/3 for nil
  });

  it("accepts bigint power and 64-byte keys; rejects empty sets, zero power, duplicates", () => {
    const key = new Uint8Array(32).fill(9);
    const pub = secp256k1.getPublicKey(key, false);
    const set = new ValidatorSet([{ publicKey: bytesToHex(pub.subarray(1)), power: 100_000n }]);
    expect(set.validators[0]!.power).toBe(100_000);
    expect(set.validators[0]!.address).toMatch(/^0x[0-9a-f]{40}$/);
    expect(() => new ValidatorSet([])).toThrow(/empty/);
    expect(() => new ValidatorSet([{ publicKey: pub, power: 0 }])).toThrow(/positive/);
    expect(() => new ValidatorSet([{ publicKey: pub, power: 2n ** 60n }])).toThrow(/positive/);
    expect(
      () =>
        new ValidatorSet([
          { publicKey: pub, power: 1 },
          { publicKey: pub, power: 2 },
        ]),
    ).toThrow(/twice/);
  });

  it("the weighted static proposer picks validators in proportion to their power", () => {
    const tv = makeValidators(4, 3, [1, 1, 1, 3]);
    const counts = new Map<string, number>();
    for (let h = 1; h <= 3000; h++) {
      const p = staticHeightValidators(tv.set, h, "weighted").proposer(0);
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    const heavy = tv.set.validators.find((v) => v.power === 3)!.address;
    expect(counts.get(heavy)! / 3000).toBeGreaterThan(0.45);
    expect(counts.get(heavy)! / 3000).toBeLessThan(0.55);
    expect(counts.size).toBe(4);
  });
});
