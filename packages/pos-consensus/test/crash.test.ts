import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type CrashPoint, SimulatedCrash } from "../src/consensusDriver.ts";
import { fileGuardStore } from "../src/doubleSignGuard.ts";
import type { ConsensusMessage } from "../src/types.ts";
import { FileWal } from "../src/wal.ts";
import { type SimNode, Simulation } from "./sim.ts";

const V = 0; // the validator that crashes
const CRASH_HEIGHT = 2;
const TARGET = 5;

/** Every message V ever signed, from the wire and from its WAL, grouped by (h, r, step). */
function conflictsOf(signed: ConsensusMessage[]): string[] {
  const byKey = new Map<string, Set<string>>();
  for (const m of signed) {
    const [key, value] =
      m.type === "vote"
        ? [`${m.vote.height}/${m.vote.round}/${m.vote.type}`, String(m.vote.blockHash)]
        : m.type === "proposal"
          ? [
              `${m.proposal.height}/${m.proposal.round}/proposal`,
              `${m.proposal.blockHash}/${m.proposal.polRound}`,
            ]
          : ["", ""];
    if (!key) continue;
    const set = byKey.get(key) ?? new Set();
    set.add(value);
    byKey.set(key, set);
  }
  return [...byKey].filter(([, v]) => v.size > 1).map(([k]) => k);
}

type Run = {
  crashedAt?: CrashPoint;
  conflicts: string[];
  heights: number[];
  evidenceAgainstV: number;
  /** Highest height V signed a vote for: it must take part again after its restart. */
  lastSignedHeight: number;
};

async function runWithCrashAt(k: number, dir: string): Promise<Run> {
  const sim = new Simulation({ n: 4, seed: 100, network: { minDelayMs: 1, maxDelayMs: 6 } });
  const signed: ConsensusMessage[] = [];
  sim.net.taps.push((from, msg) => {
    if (from === V) signed.push(msg);
  });
  let calls = 0;
  let crashedAt: CrashPoint | undefined;
  let node: SimNode | undefined;
  const hook = (p: CrashPoint): void => {
    if (crashedAt || node?.driver.height !== CRASH_HEIGHT) return;
    if (++calls === k) {
      crashedAt = p;
      throw new SimulatedCrash(p);
    }
  };
  const walPath = join(dir, "wal");
  const guardPath = join(dir, "guard.json");
  for (let i = 0; i < 4; i++) {
    if (i === V)
      node = await sim.startNode(V, {
        wal: await FileWal.open(walPath),
        guardStore: fileGuardStore(guardPath),
        crashHook: hook,
      });
    else await sim.startNode(i);
  }
  await sim.runUntil(() => crashedAt !== undefined || sim.minHeight() >= TARGET, 60_000);
  if (crashedAt) {
    // The process is gone: its memory (state, queues, timers) with it. Down for a while.
    sim.net.detach(V);
    await node!.wal.close();
    const downUntil = sim.clock.now() + 300;
    await sim.runUntil(() => sim.clock.now() >= downUntil, 60_000);
    const wal = await FileWal.open(walPath);
    for (const r of await wal.records()) {
      if (r.kind === "input" && r.input.type === "vote" && r.input.vote.validator === node!.address) {
        signed.push({ type: "vote", vote: r.input.vote });
      }
    }
    node = await sim.startNode(V, { wal, guardStore: fileGuardStore(guardPath) }, node);
  }
  await sim.runUntil(() => sim.minHeight() >= TARGET, 120_000);
  // Agreement across the restart.
  for (let h = 1; h <= TARGET; h++) {
    expect(new Set(sim.honest.map((n) => n.decided.get(h)?.hash)).size, `height ${h}`).toBe(1);
  }
  const evidenceAgainstV = sim.honest
    .flatMap((n) => n.driver.evidence.list())
    .filter((e) => "validator" in e && e.validator === node!.address).length;
  await node!.driver.stop();
  await node!.wal.close();
  await sim.stop();
  const lastSignedHeight = Math.max(...signed.map((m) => (m.type === "vote" ? m.vote.height : 0)));
  return {
    crashedAt,
    conflicts: conflictsOf(signed),
    heights: sim.honest.map((n) => n.decided.size),
    evidenceAgainstV,
    lastSignedHeight,
  };
}

describe("crash and restart at every step of a height", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it("never signs two different messages for one (height, round, step); the network keeps deciding", {
    timeout: 180_000,
  }, async () => {
    const hit = new Set<CrashPoint>();
    let k = 1;
    for (; k < 200; k++) {
      const dir = await mkdtemp(join(tmpdir(), "dseq-crash-"));
      dirs.push(dir);
      const run = await runWithCrashAt(k, dir);
      expect(run.conflicts, `crash #${k} at ${run.crashedAt}`).toEqual([]);
      expect(run.evidenceAgainstV, `crash #${k} at ${run.crashedAt}`).toBe(0);
      expect(Math.min(...run.heights)).toBeGreaterThanOrEqual(TARGET);
      // It takes part again after the restart (not only catching up from certificates).
      expect(run.lastSignedHeight).toBeGreaterThan(CRASH_HEIGHT);
      if (!run.crashedAt) break; // k is past the last crash point of the height
      hit.add(run.crashedAt);
    }
    expect(k).toBeGreaterThan(10);
    process.stdout.write(`crash points in height ${CRASH_HEIGHT}: ${k - 1}\n`);
    // Before and after the WAL write of inputs, around the guard and the signature, around
    // the broadcast, and on each side of the commit and its end-height record.
    expect([...hit].sort()).toEqual(
      [
        "broadcast.after",
        "broadcast.before",
        "commit.afterApp",
        "commit.afterEndHeight",
        "commit.before",
        "input.afterWal",
        "input.beforeWal",
        "sign.afterGuard",
        "sign.afterSign",
        "sign.beforeGuard",
      ].sort(),
    );
  });
});
