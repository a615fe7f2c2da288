import { describe, expect, it } from "vitest";
import {
  centre,
  floorDiv,
  incrementProposerPriority,
  newPrioritySet,
  type PrioritySet,
  rescale,
  updatePrioritySet,
} from "./proposerPriority.ts";

const hex = (s: string) => `0x${Buffer.from(s).toString("hex")}`;
const addr = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;

/** Proposer sequence as CometBFT's tests read it: GetProposer, then IncrementProposerPriority(1). */
function sequence(vals: { address: string; power: bigint }[], n: number): string[] {
  let step = newPrioritySet(vals);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(step.proposer);
    step = incrementProposerPriority(step.set, 1);
  }
  return out;
}

function prios(set: PrioritySet): bigint[] {
  return set.validators.map((v) => v.priority);
}

describe("CometBFT proposer priority", () => {
  it("reproduces CometBFT's TestProposerSelection1 (foo 1000, bar 300, baz 330; 99 steps)", () => {
    const names = new Map([hex("foo"), hex("bar"), hex("baz")].map((h, i) => [h, ["foo", "bar", "baz"][i]!]));
    const got = sequence(
      [
        { address: hex("foo"), power: 1000n },
        { address: hex("bar"), power: 300n },
        { address: hex("baz"), power: 330n },
      ],
      99,
    ).map((a) => names.get(a));
    const expected =
      "foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo foo baz bar foo foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo bar foo foo baz foo foo bar foo baz foo foo bar foo baz foo foo bar foo baz foo foo";
    expect(got.join(" ")).toBe(expected);
  });

  it("reproduces CometBFT's TestProposerSelection2 (address order, 400 vs 401, 4:5:3 counts)", () => {
    const [a0, a1, a2] = [addr(0), addr(1), addr(2)];
    expect(
      sequence(
        [a0, a1, a2].map((address) => ({ address, power: 100n })),
        15,
      ),
    ).toEqual(Array.from({ length: 15 }, (_, i) => [a0, a1, a2][i % 3]));
    expect(
      sequence(
        [
          { address: a0, power: 100n },
          { address: a1, power: 100n },
          { address: a2, power: 400n },
        ],
        2,
      ),
    ).toEqual([a2, a0]);
    expect(
      sequence(
        [
          { address: a0, power: 100n },
          { address: a1, power: 100n },
          { address: a2, power: 401n },
        ],
        3,
      ),
    ).toEqual([a2, a2, a0]);
    const counts = new Map<string, number>();
    for (const p of sequence(
      [
        { address: a0, power: 4n },
        { address: a1, power: 5n },
        { address: a2, power: 3n },
      ],
      120,
    ))
      counts.set(p, (counts.get(p) ?? 0) + 1);
    expect([counts.get(a0), counts.get(a1), counts.get(a2)]).toEqual([40, 50, 30]);
  });

  it("matches CometBFT's TestAveragingInIncrementProposerPriorityWithVotingPower", () => {
    // powers 10, 1, 1 (total 12), priorities all 0, incremented `times` at once.
    const base: PrioritySet = {
      validators: [addr(0), addr(1), addr(2)].map((address, i) => ({
        address,
        power: i === 0 ? 10n : 1n,
        priority: 0n,
      })),
      totalPower: 12n,
    };
    const cases: [number, bigint[], number][] = [
      [1, [-2n, 1n, 1n], 0],
      [2, [-4n, 2n, 2n], 0],
      [3, [-6n, 3n, 3n], 0],
      [4, [-8n, 4n, 4n], 0],
      [5, [2n, -7n, 5n], 1],
      [6, [0n, -6n, 6n], 0],
      [7, [-2n, -5n, 7n], 0],
      [8, [-4n, -4n, 8n], 0],
      [9, [6n, -3n, -3n], 2],
      [10, [4n, -2n, -2n], 0],
      [11, [2n, -1n, -1n], 0],
    ];
    for (const [times, want, proposer] of cases) {
      const step = incrementProposerPriority(base, times);
      expect(prios(step.set), `times ${times}`).toEqual(want);
      expect(step.proposer).toBe(addr(proposer));
    }
  });

  it("follows a hand-computed sequence for powers A=1, B=3", () => {
    // New set: (0, 0) -> +power (1, 3) -> B pays 4: (1, -1), proposer B.
    // (1,-1)+(1,3)=(2,2) tie -> lower address A: (-2, 2). (-1,5) -> B: (-1,1). (0,4) -> B: (0,0).
    const [A, B] = [addr(0xa), addr(0xb)];
    expect(
      sequence(
        [
          { address: A, power: 1n },
          { address: B, power: 3n },
        ],
        8,
      ),
    ).toEqual([B, A, B, B, B, A, B, B]);
    expect(
      prios(
        newPrioritySet([
          { address: A, power: 1n },
          { address: B, power: 3n },
        ]).set,
      ),
    ).toEqual([1n, -1n]);
  });

  it("lets a new validator join at -1.125x total, behind the queue (hand-computed)", () => {
    // From A=1, B=3 at (1, -1): C=4 joins. T after updates = 8, so C starts at -(8 + 8>>3) = -9.
    // (1, -1, -9): window 16 >= diff 10, no rescale; mean floor(-9/3) = -3 -> (4, 2, -6).
    const [A, B, C] = [addr(0xa), addr(0xb), addr(0xc)];
    const start = newPrioritySet([
      { address: A, power: 1n },
      { address: B, power: 3n },
    ]).set;
    const joined = updatePrioritySet(start, [
      { address: A, power: 1n },
      { address: B, power: 3n },
      { address: C, power: 4n },
    ]);
    expect(prios(joined)).toEqual([4n, 2n, -6n]);
    // Then: +(1,3,4) = (5,5,-2) tie -> A: (-3,5,-2); (-2,8,2) -> B: (-2,0,2); (-1,3,6) -> C: (-1,3,-2);
    // (0,6,2) -> B: (0,-2,2); (1,1,6) -> C: (1,1,-2); (2,4,2) -> B: (2,-4,2); (3,-1,6) -> C; (4,2,2) -> A.
    let set = joined;
    const got: string[] = [];
    for (let i = 0; i < 8; i++) {
      const step = incrementProposerPriority(set, 1);
      got.push(step.proposer);
      set = step.set;
    }
    expect(got).toEqual([A, B, C, B, C, B, C, A]);
  });

  it("never lets a newcomer propose first, whatever its power", () => {
    for (const power of [1n, 10n, 100n, 1_000n, 100_000n]) {
      const vals = [1, 2, 3, 4].map((i) => ({ address: addr(i), power: BigInt(i) * 10n }));
      let set = newPrioritySet(vals).set;
      for (let i = 0; i < 7; i++) set = incrementProposerPriority(set, 1).set;
      const joined = updatePrioritySet(set, [...vals, { address: addr(99), power }]);
      expect(incrementProposerPriority(joined, 1).proposer).not.toBe(addr(99));
    }
  });

  it("keeps priorities of remaining validators through a removal, then rescales and centres", () => {
    const vals = [1, 2, 3].map((i) => ({ address: addr(i), power: BigInt(i) }));
    let set = newPrioritySet(vals).set;
    set = incrementProposerPriority(set, 1).set;
    const before = new Map(set.validators.map((v) => [v.address, v.priority]));
    const removed = updatePrioritySet(set, vals.slice(0, 2));
    const sum = [...before.entries()].filter(([a]) => a !== addr(3)).reduce((s, [, p]) => s + p, 0n);
    const avg = floorDiv(sum, 2n);
    expect(prios(removed)).toEqual([before.get(addr(1))! - avg, before.get(addr(2))! - avg]);
    expect(removed.totalPower).toBe(3n);
  });

  it("rescales a window wider than 2x total by ceil(diff / window), truncating toward zero", () => {
    const set: PrioritySet = {
      validators: [
        { address: addr(1), power: 1n, priority: 100n },
        { address: addr(2), power: 1n, priority: -11n },
      ],
      totalPower: 2n,
    };
    // diff 111, window 4 -> ratio ceil(111/4) = 28 -> 100/28 = 3, -11/28 = 0 (toward zero).
    expect(prios(rescale(set))).toEqual([3n, 0n]);
    // floor mean of (3, 0) is 1.
    expect(prios(centre(rescale(set)))).toEqual([2n, -1n]);
    expect(floorDiv(-7n, 2n)).toBe(-4n);
    expect(floorDiv(7n, 2n)).toBe(3n);
  });

  it("starves nobody: counts track power and the gap between turns is bounded", () => {
    const powers = [1n, 2n, 3n, 5n, 8n, 13n, 100n];
    const vals = powers.map((power, i) => ({ address: addr(i + 1), power }));
    const total = powers.reduce((a, b) => a + b, 0n);
    const n = Number(total) * 20;
    const seq = sequence(vals, n);
    vals.forEach((v) => {
      const picks = seq.flatMap((p, i) => (p === v.address ? [i] : []));
      const expected = (n * Number(v.power)) / Number(total);
      expect(Math.abs(picks.length - expected), v.address).toBeLessThanOrEqual(powers.length);
      const period = Math.ceil(Number(total) / Number(v.power));
      let maxGap = picks[0]!;
      for (let i = 1; i < picks.length; i++) maxGap = Math.max(maxGap, picks[i]! - picks[i - 1]!);
      expect(maxGap, v.address).toBeLessThanOrEqual(2 * period + powers.length);
    });
  });

  it("refuses empty sets, zero power and duplicates", () => {
    expect(() => updatePrioritySet(undefined, [])).toThrow(/empty/);
    expect(() => updatePrioritySet(undefined, [{ address: addr(1), power: 0n }])).toThrow(/power/);
    expect(() =>
      updatePrioritySet(undefined, [
        { address: addr(1), power: 1n },
        { address: addr(1), power: 2n },
      ]),
    ).toThrow(/duplicate/);
  });
});
