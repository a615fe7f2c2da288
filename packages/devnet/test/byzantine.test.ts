// Real `dseq start` processes with one Byzantine validator switched on through the devnet
// (ADR 0105): the same path a researcher uses with `pnpm devnet --byzantine v4=...`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Devnet, startDevnet } from "../src/devnet.ts";
import {
  dseqStartAvailable,
  forkHeights,
  headOf,
  logLinesMatching,
  metricsText,
  waitFor,
} from "./helpers.ts";

/** Sum of every series of a Prometheus counter in a /metrics text. */
function counter(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) if (line.startsWith(name)) sum += Number(line.split(" ").at(-1));
  return sum;
}

describe.skipIf(!dseqStartAvailable())("devnet --byzantine: real processes", () => {
  let root: string | undefined;
  let d: Devnet | undefined;
  afterAll(async () => {
    await d?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("v4 equivocates votes and gossips garbage: banned and on record, no fork, blocks go on", async () => {
    root = mkdtempSync(join(tmpdir(), "devnet-byz-"));
    d = await startDevnet({
      dataDir: join(root, "net"),
      validators: 4,
      followers: 0,
      blockTimeMs: 1000,
      readyTimeoutMs: 90_000,
      // Garbage once a second: v4 is banned after a few seconds, not before its conflicting
      // votes of the first heights had time to reach the others (a 300 ms interval could ban
      // it before any equivocation was on record: a race, seen once in CI).
      byzantine: { v4: { equivocateVotes: true, garbageGossip: true, garbageGossipEveryMs: 1000 } },
    });
    const honest = d.nodes.filter((n) => n.name !== "v4");
    const v1 = d.node("v1");
    await waitFor("height 2", async () => (await headOf(v1)) >= 2, 90_000, 500);
    const from = await headOf(v1);
    const t0 = Date.now();
    await waitFor("8 more blocks", async () => (await headOf(v1)) >= from + 8, 60_000, 500);
    const secs = (Date.now() - t0) / 1000;
    const to = Math.min(...(await Promise.all(honest.map(headOf))));
    expect(await forkHeights(honest, to)).toEqual([]);
    // Bans and evidence come from gossip judged as it arrives: wait (bounded) until every honest
    // node banned v4 and one holds equivocation evidence, then read the figures.
    const read = async () => {
      const texts = await Promise.all(honest.map(metricsText));
      return {
        bans: texts.map((t) => counter(t, "dseq_p2p_peer_bans_total")),
        evidence: texts.map((t) => counter(t, "dseq_consensus_evidence_total")),
      };
    };
    await waitFor(
      "v4 banned everywhere and its equivocation on record",
      async () => {
        const r = await read();
        return r.bans.every((b) => b > 0) && r.evidence.some((e) => e > 0);
      },
      30_000,
      500,
    );
    const metrics = await Promise.all(honest.map(metricsText));
    const bans = metrics.map((t) => counter(t, "dseq_p2p_peer_bans_total"));
    const penalties = metrics.map((t) => counter(t, "dseq_p2p_peer_penalties_total"));
    const evidence = metrics.map((t) => counter(t, "dseq_consensus_evidence_total"));
    process.stdout.write(
      `devnet byzantine: ${JSON.stringify({ from, to, secondsFor8: secs, bans, penalties, evidence })}\n`,
    );
    expect(logLinesMatching(d.node("v4"), /BYZANTINE MODE/).length).toBe(1);
    for (const b of bans) expect(b).toBeGreaterThan(0);
    // Equivocation is on record wherever v4's conflicting votes arrived before its ban.
    expect(evidence.some((e) => e > 0)).toBe(true);
  }, 240_000);
});
