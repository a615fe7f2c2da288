import { afterEach, describe, expect, it } from "vitest";
import { verifyEvidence } from "../src/evidence.ts";
import { verifySignature } from "../src/signer.ts";
import type { Evidence } from "../src/types.ts";
import { Equivocator } from "./adversary.ts";
import { CHAIN_ID } from "./fixtures.ts";
import { Simulation } from "./sim.ts";

const accused = (evs: Evidence[], type: Evidence["type"]) =>
  [...new Set(evs.filter((e) => e.type === type).map((e) => ("validator" in e ? e.validator : "")))].sort();

describe("byzantine validators", () => {
  let sim: Simulation | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it("1 of 4 equivocates as proposer and voter: agreement holds, evidence is recorded and reported", {
    timeout: 60_000,
  }, async () => {
    const F = 2;
    sim = new Simulation({
      n: 4,
      seed: 5,
      byzantine: [F],
      network: { relay: true, minDelayMs: 1, maxDelayMs: 8 },
    });
    const adversary = new Equivocator(sim, [F], [0, 1]);
    await sim.startAll();
    const reported: Evidence[] = [];
    sim.nodes[0]!.driver.events.on("consensus.evidence", ({ evidence }) => {
      reported.push(evidence);
    });
    adversary.maybePropose(1);
    const target = 24; // six heights where F proposes round 0
    await sim.runUntil(() => sim!.minHeight() >= target, 600_000);
    // Agreement over every height.
    for (let h = 1; h <= target; h++) {
      const hashes = new Set(sim.honest.map((n) => n.decided.get(h)!.hash));
      expect(hashes.size, `height ${h}`).toBe(1);
    }
    const fAddr = sim.tv.addresses[F]!;
    for (const n of sim.honest) {
      const evs = n.driver.evidence.list();
      expect(accused(evs, "duplicateVote")).toEqual([fAddr]);
      expect(accused(evs, "conflictingProposal")).toEqual([fAddr]);
      for (const e of evs) expect(verifyEvidence(e, sim.tv.set, CHAIN_ID, verifySignature)).toBe(true);
    }
    await new Promise((r) => setImmediate(r));
    expect(accused(reported, "duplicateVote")).toEqual([fAddr]);
    expect(accused(reported, "conflictingProposal")).toEqual([fAddr]);
  });

  it("2 of 4 faulty: the honest nodes are made to commit different blocks, and it is detected as evidence", {
    timeout: 60_000,
  }, async () => {
    // Height 1 round 0 is proposed by validator 1 (round-robin). Faulty: 1 and 2.
    const faulty = [1, 2];
    const [A, B] = [0, 3];
    sim = new Simulation({
      n: 4,
      seed: 9,
      byzantine: faulty,
      network: { relay: false, minDelayMs: 1, maxDelayMs: 5 },
    });
    const adversary = new Equivocator(sim, faulty, [A]);
    await sim.startAll();
    adversary.maybePropose(1);
    const x = [...sim.proposed.values()][0]!;
    const y = [...sim.proposed.values()][1]!;
    adversary.voteBoth(1, 0, x.hash, y.hash);
    const nodeA = sim.nodes[A]!;
    const nodeB = sim.nodes[B]!;
    const has = (n: typeof nodeA) => n.driver.evidence.list().some((e) => e.type === "conflictingCommit");
    await sim.runUntil(() => has(nodeA) && has(nodeB), 60_000);
    // Safety is lost, as it must be with f >= n/3 ...
    expect(nodeA.decided.get(1)?.hash).toBe(x.hash);
    expect(nodeB.decided.get(1)?.hash).toBe(y.hash);
    // ... but not silently: both honest nodes hold proof naming exactly the faulty validators.
    const faultyAddrs = faulty.map((i) => sim!.tv.addresses[i]!).sort();
    for (const n of [nodeA, nodeB]) {
      const evs = n.driver.evidence.list();
      const cc = evs.find((e) => e.type === "conflictingCommit");
      expect(cc?.type === "conflictingCommit" && [...cc.validators]).toEqual(faultyAddrs);
      expect(accused(evs, "duplicateVote")).toEqual(faultyAddrs);
      for (const e of evs) expect(verifyEvidence(e, sim.tv.set, CHAIN_ID, verifySignature)).toBe(true);
    }
  });
});
