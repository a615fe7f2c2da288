// `pnpm bench devnet`: 4 validator processes on this machine. Load at increasing rates until
// the chain stops keeping up; confirmation latency at half the best sustained rate; failover
// time after a kill -9 of the span sequencer. The load generator shares the CPU with the nodes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Devnet, startDevnet } from "../src/devnet.ts";
import { blockNumber, rpcCall } from "../src/jsonRpc.ts";
import { type LoadReport, runLoad } from "../src/load.ts";

export const description =
  "4 validators on 127.0.0.1: max sustained transfers/s, confirm latency at half load, failover after kill -9 of the sequencer";

const STEPS = [50, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000];
const STEP_MS = 20_000;

async function poolSize(d: Devnet): Promise<number> {
  let total = 0;
  for (const n of d.nodes) {
    if (n.state !== "running") continue;
    const s = await rpcCall<{ pending: string; queued: string }>(n.rpcUrl, "txpool_status", [], 5000).catch(
      () => ({ pending: "0x0", queued: "0x0" }),
    );
    total = Math.max(total, Number(s.pending) + Number(s.queued));
  }
  return total;
}

async function step(
  d: Devnet,
  tps: number,
  durationMs: number,
  beforeDrain?: () => Promise<void>,
): Promise<LoadReport> {
  return runLoad({
    ...(beforeDrain ? { beforeDrain } : {}),
    rpcUrls: d.nodes.map((n) => n.rpcUrl),
    accounts: d.loadAccounts,
    chainId: d.chainId,
    tps,
    durationMs,
    drainMs: 10_000,
    // Confirmed = the newHeads notification of the block arrived (what a subscribed client sees).
    headsWsUrl: (d.nodes[0] as Devnet["nodes"][number]).wsUrl,
  });
}

async function failover(d: Devnet): Promise<number> {
  const probe = d.nodes[0] as Devnet["nodes"][number];
  const { sequencer } = await rpcCall<{ sequencer: string }>(probe.rpcUrl, "dseq_currentSequencer");
  const victim = d.nodes.find((n) => n.address === sequencer.toLowerCase());
  if (!victim) throw new Error(`sequencer ${sequencer} is not a devnet node`);
  const observer = d.nodes.find((n) => n !== victim) as typeof victim;
  // a random moment within the slot
  await new Promise((r) => setTimeout(r, Math.random() * d.blockTimeMs));
  const h0 = await blockNumber(observer.rpcUrl);
  const t0 = performance.now();
  await victim.kill();
  let ms = Number.NaN;
  while (performance.now() - t0 < 60_000) {
    if ((await blockNumber(observer.rpcUrl)) > h0) {
      ms = performance.now() - t0;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await victim.restart();
  await victim.waitReady(60_000);
  const target = await blockNumber(observer.rpcUrl);
  while ((await blockNumber(victim.rpcUrl)) < target) await new Promise((r) => setTimeout(r, 250));
  return ms;
}

export default async function run(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), "devnet-bench-"));
  const fresh = async (name: string): Promise<Devnet> => {
    const net = await startDevnet({
      dataDir: join(root, name),
      validators: 4,
      followers: 0,
      loadAccounts: 512,
    });
    while ((await blockNumber(net.nodes[0]?.rpcUrl as string)) < 3)
      await new Promise((r) => setTimeout(r, 500));
    return net;
  };
  let d = await fresh("ramp");
  try {
    let best = 0;
    for (const tps of STEPS) {
      // The backlog when sending stops: a chain that keeps up holds at most the last slot's
      // arrivals (plus the block being committed); more means the pool grew during the step.
      let backlog = 0;
      const r = await step(d, tps, STEP_MS, async () => {
        backlog = await poolSize(d);
      });
      const pool = await poolSize(d);
      const committedPerS = r.committed / (r.durationMs / 1000);
      const sustained =
        r.accepted >= r.sent * 0.99 &&
        r.committed >= r.sent * 0.98 &&
        backlog <= Math.max(50, tps * 3) &&
        pool <= Math.max(50, tps * 0.5);
      console.log(
        `  ${String(tps).padStart(4)} tx/s offered: sent ${r.sent} accepted ${r.accepted} committed ${r.committed} (${committedPerS.toFixed(0)}/s) backlog ${backlog} pool ${pool} p50 ${r.confirmP50Ms.toFixed(0)} ms p99 ${r.confirmP99Ms.toFixed(0)} ms sign ${(r.signMs / 1000).toFixed(1)} s ${sustained ? "sustained" : "NOT sustained"}${Object.keys(r.errors).length ? ` errors ${JSON.stringify(r.errors).slice(0, 200)}` : ""}`,
      );
      if (!sustained) break;
      best = Math.min(committedPerS, tps);
      // let the pools empty before the next step
      for (let i = 0; i < 30 && (await poolSize(d)) > 0; i++) await new Promise((r) => setTimeout(r, 1000));
    }
    // The failed step leaves a backlog (and nonce gaps from refused transactions): half-load
    // latency and failover are measured on a fresh network, not on that wreckage.
    await d.stop();
    d = await fresh("half");
    const half = Math.max(1, Math.round(best / 2));
    // Warm-up (JIT, caches) at the same rate, not measured: a serving node is warm.
    await step(d, half, 6_000);
    const h = await step(d, half, 30_000);
    console.log(
      `  half load ${half} tx/s: committed ${h.committed}/${h.sent}, p50 ${h.confirmP50Ms.toFixed(0)} ms, p99 ${h.confirmP99Ms.toFixed(0)} ms`,
    );
    const trials: number[] = [];
    for (let i = 0; i < 3; i++) {
      const ms = await failover(d);
      console.log(`  failover trial ${i + 1}: ${ms.toFixed(0)} ms`);
      trials.push(ms);
    }
    trials.sort((a, b) => a - b);
    return {
      max_sustained_tps: Math.round(best),
      confirm_p50_ms: Math.round(h.confirmP50Ms),
      confirm_p99_ms: Math.round(h.confirmP99Ms),
      failover_ms: Math.round(trials[1] as number),
    };
  } finally {
    await d.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
