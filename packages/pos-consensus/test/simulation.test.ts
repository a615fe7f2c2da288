import { afterEach, describe, expect, it } from "vitest";
import { createCachedVerifier } from "../src/signer.ts";
import { type Simulation as Sim, Simulation, simValidate } from "./sim.ts";

/**
 * Agreement, validity and liveness over a hostile in-memory network: seeded random delay,
 * loss, duplication, and partitions that heal. 1,000 heights each.
 */
async function checkAgreementAndValidity(sim: Sim, heights: number): Promise<void> {
  const checks: Promise<void>[] = [];
  const honest = sim.honest;
  for (let h = 1; h <= heights; h++) {
    const first = honest[0]!.decided.get(h);
    expect(first, `height ${h} decided`).toBeDefined();
    for (const n of honest)
      expect(n.decided.get(h)?.hash, `node ${n.index} at height ${h}`).toBe(first!.hash);
    // Validity: only a block some honest proposer proposed, and valid.
    expect(sim.proposed.get(first!.hash), `height ${h} block was proposed`).toBeDefined();
    checks.push(simValidate(h, first!).then((r) => expect(r.valid).toBe(true)));
  }
  // Honest validators never look like equivocators to each other (no false evidence).
  for (const n of honest) expect(n.driver.evidence.list(), `evidence at node ${n.index}`).toEqual([]);
  await Promise.all(checks);
}

async function runScenario(n: number, seed: number): Promise<Sim> {
  const split =
    n === 4
      ? [
          [0, 1],
          [2, 3],
        ]
      : [
          [0, 1, 2],
          [3, 4, 5, 6],
        ];
  const isolated = n - 1;
  const sim = new Simulation({
    n,
    seed,
    // Verification is a pure function: one memo for all in-process nodes keeps 1,000 heights
    // of 7 validators fast without changing what any node accepts.
    verify: createCachedVerifier(),
    network: {
      minDelayMs: 1,
      maxDelayMs: 12,
      loss: 0.03,
      duplicate: 0.05,
      partitions: [
        // No side has +2/3: nobody may decide until it heals.
        { from: 4_000, to: 6_000, groups: split },
        // One validator cut off: the rest go on, it catches up after.
        { from: 9_000, to: 11_000, groups: [[...Array(n).keys()].filter((i) => i !== isolated), [isolated]] },
      ],
    },
  });
  await sim.startAll();
  // Into the first partition: heights must freeze while no quorum is connected.
  await sim.runUntil(() => sim.clock.now() >= 4_300, 60_000);
  const frozen = sim.honest.map((x) => x.decided.size);
  await sim.runUntil(() => sim.clock.now() >= 5_900, 60_000);
  expect(sim.honest.map((x) => x.decided.size)).toEqual(frozen);
  // Healed: progress resumes.
  await sim.runUntil(() => sim.minHeight() > Math.max(...frozen) + 5, 60_000);
  // The isolated validator falls behind, then catches up after the heal.
  await sim.runUntil(() => sim.clock.now() >= 10_900, 60_000);
  const others = sim.honest.filter((x) => x.index !== isolated);
  const isolatedHeight = sim.nodes[isolated]!.decided.size;
  expect(Math.min(...others.map((x) => x.decided.size))).toBeGreaterThan(isolatedHeight);
  await sim.runUntil(() => sim.minHeight() >= 1_000, 600_000);
  return sim;
}

describe("simulation: agreement, validity, liveness", () => {
  let sim: Sim | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it("4 validators, 1,000 heights over a lossy, duplicating, partitioned network", {
    timeout: 120_000,
  }, async () => {
    sim = await runScenario(4, 7);
    await checkAgreementAndValidity(sim, 1_000);
    expect(sim.net.dropped).toBeGreaterThan(0);
    expect(sim.honest.every((x) => x.driver.halted === undefined)).toBe(true);
  });

  it("7 validators, 1,000 heights over a lossy, duplicating, partitioned network", {
    timeout: 120_000,
  }, async () => {
    sim = await runScenario(7, 11);
    await checkAgreementAndValidity(sim, 1_000);
    expect(sim.honest.every((x) => x.driver.halted === undefined)).toBe(true);
  });
});
