import { bytesToHex, uintToBytes } from "@dseq/common";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import {
  createRotationParams,
  createRotationSchedule,
  drawSpanSequencer,
  type Validator,
  validatorSetFromStake,
} from "../src/index.ts";
import { GENESIS_HASH, record } from "./chain.ts";

// Chi-square critical value for 4 degrees of freedom at p = 0.001 (and 3 dof for the re-draw).
const CHI2_DF4_P001 = 18.467;
const CHI2_DF3_P001 = 16.266;

const params = createRotationParams({ spanLength: 1 });
// 20k (the minimum), 35k, 60k, exactly the 100k cap, and 250k locked (capped to 100k).
const RECORDS = [
  record(1, 20_000n),
  record(2, 35_000n),
  record(3, 60_000n),
  record(4, 100_000n),
  record(5, 250_000n),
];
const SET = validatorSetFromStake(RECORDS, params);

function chiSquare(counts: Map<string, number>, candidates: readonly Validator[], n: number): number {
  const total = candidates.reduce((a, v) => a + Number(v.power), 0);
  let chi2 = 0;
  for (const v of candidates) {
    const expected = (n * Number(v.power)) / total;
    const observed = counts.get(v.address) ?? 0;
    chi2 += (observed - expected) ** 2 / expected;
  }
  return chi2;
}

describe("stake-weighted span draw fairness", () => {
  it("caps power: 250k locked weighs the same as 100k", () => {
    expect(SET.validators.map((v) => v.power)).toEqual([20_000n, 35_000n, 60_000n, 100_000n, 100_000n]);
  });

  it("over 100,000 spans of a running schedule, shares match power (chi-square)", { timeout: 60_000 }, () => {
    // spanLength 1: every block is a span, each seeded by the committed hash two spans back.
    const s = createRotationSchedule({
      params,
      genesis: { records: RECORDS, hash: GENESIS_HASH, timestamp: 0 },
    });
    const counts = new Map<string, number>();
    const n = 100_000;
    for (let h = 1; h <= n; h++) {
      const proposer = s.proposerFor(h, 0);
      counts.set(proposer, (counts.get(proposer) ?? 0) + 1);
      const hash = bytesToHex(keccak_256(uintToBytes(h, 8)));
      s.applyBlock({ height: h, hash, round: 0, proposer, timestamp: h * 2 });
    }
    const chi2 = chiSquare(counts, SET.validators, n);
    expect(chi2).toBeLessThan(CHI2_DF4_P001);
    // The capped sequencer and the one exactly at the cap get the same expected share (100/315).
    for (const id of [4, 5]) {
      const share = (counts.get(SET.validators.find((v) => v.id === id)!.address) ?? 0) / n;
      expect(Math.abs(share - 100 / 315)).toBeLessThan(0.005);
    }
  });

  it("a skewed draw is caught: the test has power", () => {
    // Same counts as a sampler that ignores weights (uniform over 5) must fail the bound.
    const counts = new Map(SET.validators.map((v) => [v.address, 20_000]));
    expect(chiSquare(counts, SET.validators, 100_000)).toBeGreaterThan(CHI2_DF4_P001);
  });

  it("re-election draws over the rest are stake-weighted too", () => {
    const rest = SET.validators.filter((v) => v.id !== 5);
    const counts = new Map<string, number>();
    const n = 30_000;
    for (let i = 0; i < n; i++) {
      const seed = bytesToHex(keccak_256(uintToBytes(i, 8)));
      const who = drawSpanSequencer(seed, i, 1, rest);
      counts.set(who, (counts.get(who) ?? 0) + 1);
    }
    expect(counts.has(SET.validators.find((v) => v.id === 5)!.address)).toBe(false);
    expect(chiSquare(counts, rest, n)).toBeLessThan(CHI2_DF3_P001);
  });
});
