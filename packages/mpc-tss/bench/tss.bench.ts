// `pnpm bench tss`: FROST DKG and signing among in-process parties on the test network (no
// drops, no artificial delay). Every party's CPU work runs on this one thread, so these are the
// sums over all parties, not the latency one node sees on its own machine.
import { utf8ToBytes } from "@dseq/common";
import { makeCluster, makeParties, runTestDkg } from "../test/helpers.ts";

export const description = "FROST(secp256k1) DKG and signing, all parties in one process (medians)";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function dkgMs(n: number, runs: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const keys = makeParties(n, 100 + i);
    const t0 = performance.now();
    const run = await runTestDkg(keys, { epoch: i + 1 });
    times.push(performance.now() - t0);
    run.close();
    if ([...run.results.values()].some((r) => r.status !== "fulfilled")) throw new Error("DKG failed");
  }
  return median(times);
}

async function signMs(n: number, runs: number): Promise<number> {
  const cluster = await makeCluster(n, { seed: 200 + n });
  try {
    const times: number[] = [];
    for (let i = 0; i < runs + 1; i++) {
      const msg = utf8ToBytes(`bench batch ${i}`);
      const t0 = performance.now();
      await cluster.nodes[0]?.coordinator.sign({ group: cluster.group, message: msg });
      if (i > 0) times.push(performance.now() - t0); // first run warms up
    }
    return median(times);
  } finally {
    await cluster.close();
  }
}

/** Wall time and this process's CPU time of one phase (the machine may be shared). */
async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await f();
  const cpu = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  console.log(
    `  ${label}: wall ${Math.round(wall)} ms, cpu ${Math.round((cpu.user + cpu.system) / 1000)} ms`,
  );
  return r;
}

export default async function run(): Promise<Record<string, number>> {
  const dkg = await timed("3 x dkg 15of21", () => dkgMs(21, 3));
  const sign21 = await timed("setup + 11 x sign 15of21", () => signMs(21, 10));
  const sign4 = await timed("setup + 21 x sign 3of4", () => signMs(4, 20));
  return {
    dkg_15of21_ms: Math.round(dkg),
    sign_15of21_ms: Math.round(sign21),
    sign_3of4_ms: Math.round(sign4 * 10) / 10,
  };
}
