// `pnpm bench wan` (issue #22): 4 and 7 validator processes on the netns testbed, every link
// 100 ms RTT (50 ms each way through the link relay, ADR 0161): block time p50/p99 as an
// observer sees heads arrive, confirm_p99_ms at 100 tx/s (honest method: never committed = 10 s),
// failover to another proposer (7 trials). Then pos-consensus's simulation at 4, 7, 21, 50, 100
// validators with 100 ms simulated RTT: heights/s and messages per height.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { blockNumber } from "../src/jsonRpc.ts";
import { quantile } from "../src/load.ts";
import { canUseNetns } from "../src/testbed/driver.ts";
import { startTestbedDevnet } from "../src/testbed/testbedDevnet.ts";
import { failoverTrials, honestStep } from "./devnet.bench.ts";

export const description =
  "4 and 7 validators at 100 ms RTT on the netns testbed (block time, confirm p99, failover) and the consensus simulation at 4-100 validators";

/** pos-consensus's bench/simulation.ts, loaded at run time (a bench, not a dependency). */
type SimulationModule = {
  simulate(
    n: number,
    oneWayMs: number,
    opts: { minHeights?: number; minSeconds?: number; maxSeconds?: number },
  ): Promise<{ heightsPerS: number; messagesPerHeight: number }>;
  describeSimulation(r: unknown): string;
};
const SIMULATION = join(import.meta.dirname, "../../pos-consensus/bench/simulation.ts");

const WAN = { delayMs: 50, jitterMs: 0, lossPct: 0, rateMbit: 0 };
const OBSERVE_MS = 40_000;

async function headArrivals(url: string, ms: number): Promise<number[]> {
  const gaps: number[] = [];
  let h = await blockNumber(url);
  let at = performance.now();
  const end = at + ms;
  while (performance.now() < end) {
    const now = await blockNumber(url).catch(() => h);
    const t = performance.now();
    if (now > h) {
      // several heads in one poll: the gap is shared
      for (let k = h; k < now; k++) gaps.push((t - at) / (now - h));
      h = now;
      at = t;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return gaps.sort((a, b) => a - b);
}

async function wanNetwork(n: number, root: string): Promise<Record<string, number>> {
  const tb = await startTestbedDevnet({
    dataDir: join(root, `v${n}`),
    validators: n,
    followers: 0,
    loadAccounts: 256,
    shape: WAN,
  });
  try {
    const url = tb.devnet.nodes[0]?.rpcUrl as string;
    while ((await blockNumber(url)) < 3) await new Promise((r) => setTimeout(r, 500));
    const gaps = await headArrivals(url, OBSERVE_MS);
    const load = await honestStep(tb.devnet, 100, 20_000);
    const f = await failoverTrials(tb.devnet, 2000, 7);
    console.log(
      `  ${n} validators at 100 ms RTT: block time p50 ${quantile(gaps, 0.5).toFixed(0)} ms p99 ${quantile(gaps, 0.99).toFixed(0)} ms (${gaps.length} blocks), 100 tx/s: within 5 s ${(load.onTimeShare * 100).toFixed(1)} %, confirm p50 ${load.confirmP50Ms.toFixed(0)} p99 ${load.confirmP99Ms.toFixed(0)} ms, failover p50 ${f.p50.toFixed(0)} p90 ${f.p90.toFixed(0)} ms (${f.failed} failed)`,
    );
    return {
      [`block_time_p50_ms_${n}`]: Math.round(quantile(gaps, 0.5)),
      [`block_time_p99_ms_${n}`]: Math.round(quantile(gaps, 0.99)),
      [`confirm_p99_ms_${n}`]: Math.round(load.confirmP99Ms),
      [`failover_ms_${n}`]: Math.round(f.p50),
      [`failover_p90_ms_${n}`]: Math.round(f.p90),
    };
  } finally {
    await tb.stop();
  }
}

export default async function run(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const netns = await canUseNetns();
  if (netns.ok) {
    const root = mkdtempSync(join(tmpdir(), "devnet-wan-bench-"));
    try {
      Object.assign(out, await wanNetwork(4, root));
      Object.assign(out, await wanNetwork(7, root));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  } else {
    console.log(`  netns testbed SKIPPED: ${netns.reason}`);
    out.netns_skipped = 1;
  }
  const { simulate, describeSimulation } = (await import(pathToFileURL(SIMULATION).href)) as SimulationModule;
  for (const n of [4, 7, 21, 50, 100]) {
    const r = await simulate(n, 50, { minHeights: n >= 50 ? 3 : 5, minSeconds: 5, maxSeconds: 90 });
    console.log(describeSimulation(r));
    out[`sim_heights_per_s_${n}`] = Number(r.heightsPerS.toFixed(2));
    out[`sim_messages_per_height_${n}`] = Math.round(r.messagesPerHeight);
  }
  return out;
}
