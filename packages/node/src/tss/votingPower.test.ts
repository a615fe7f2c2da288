import { createPartyKey, type PartyId } from "@dseq/mpc-tss";
import { describe, expect, it } from "vitest";
import { NodeTssErrorCode } from "./tssErrors.ts";
import { canonicalValidators, hasPowerQuorum, tssThreshold, validatorSetDigest } from "./votingPower.ts";

const parties = Array.from({ length: 7 }, () => createPartyKey().id);
const set = (powers: number[]) => powers.map((p, i) => ({ party: parties[i] as PartyId, power: BigInt(p) }));

describe("voting power", () => {
  it("threshold is floor(2n/3)+1 for equal power", () => {
    expect(tssThreshold(set([1, 1, 1, 1]))).toBe(3);
    expect(tssThreshold(set([5, 5, 5, 5, 5, 5, 5]))).toBe(5);
  });

  it("threshold exceeds the most members that can hold < 1/3 of the power", () => {
    // 1+1+1 = 3 < 13/3: three small validators may be faulty, so all four must sign
    expect(tssThreshold(set([10, 1, 1, 1]))).toBe(4);
    // 1*4 = 4 < 34/3, 4+10 >= 34/3: four may be faulty -> t = 5
    expect(tssThreshold(set([10, 10, 10, 1, 1, 1, 1]))).toBe(5);
    // many tiny validators: 6 of 7 hold 6 < 106/3
    expect(tssThreshold(set([100, 1, 1, 1, 1, 1, 1]))).toBe(7);
  });

  it("a quorum needs strictly more than 2/3 of the power, not of the members", () => {
    const vs = set([10, 10, 10, 1, 1, 1, 1]); // total 34
    expect(
      hasPowerQuorum(vs, [parties[0], parties[3], parties[4], parties[5], parties[6]] as PartyId[]),
    ).toBe(false); // 14 of 34 with 5 members (= t)
    expect(hasPowerQuorum(vs, [parties[0], parties[1], parties[2]] as PartyId[])).toBe(true); // 30
    expect(hasPowerQuorum(set([1, 1, 1]), [parties[0], parties[1]] as PartyId[])).toBe(false); // exactly 2/3
    expect(hasPowerQuorum(vs, [createPartyKey().id, parties[0]] as PartyId[])).toBe(false);
  });

  it("canonical sets are sorted and checked; the digest ignores input order", () => {
    const vs = set([3, 2, 1]);
    expect(validatorSetDigest(vs)).toBe(validatorSetDigest([...vs].reverse()));
    expect(validatorSetDigest(vs)).not.toBe(validatorSetDigest(set([3, 2, 2])));
    expect(() => canonicalValidators([])).toThrow(
      expect.objectContaining({ code: NodeTssErrorCode.BadValidatorSet }),
    );
    expect(() => canonicalValidators([...vs, vs[0]!])).toThrow(/bad validator/);
    expect(() => canonicalValidators(set([1, 0]))).toThrow(/bad validator/);
    expect(() => canonicalValidators([{ party: "0x1234", power: 1n }])).toThrow(/bad validator/);
  });
});
