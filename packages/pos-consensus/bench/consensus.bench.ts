import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cryptoBackend } from "@dseq/crypto";
import { startCluster } from "./localCluster.ts";

export const description =
  "4 and 7 validators in one process, empty blocks, no artificial delay; file WAL + guard with fsync (temp dir)";

type Result = { heightsPerS: number; p99Ms: number; p50Ms: number };

async function measure(n: number, seconds: number, useFiles: boolean): Promise<Result> {
  const dir = useFiles ? await mkdtemp(join(tmpdir(), `dseq-bench-consensus-${n}-`)) : undefined;
  const cluster = await startCluster(n, dir);
  const warmup = 20;
  const times: number[] = [];
  const done = new Promise<void>((resolve) => {
    let deadline = Number.POSITIVE_INFINITY;
    cluster.drivers[0]!.events.on("consensus.committed", ({ height }) => {
      times.push(performance.now());
      if (height === warmup) deadline = performance.now() + seconds * 1000;
      if (performance.now() >= deadline) resolve();
    });
  });
  await done;
  await cluster.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  const measured = times.slice(warmup - 1); // from the commit of the warm-up height on
  const lat = measured.slice(1).map((t, i) => t - measured[i]!);
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  const elapsed = (measured.at(-1)! - measured[0]!) / 1000;
  return { heightsPerS: lat.length / elapsed, p99Ms: q(0.99), p50Ms: q(0.5) };
}

export default async function run(): Promise<Record<string, number>> {
  console.log("crypto backend:", JSON.stringify(cryptoBackend()));
  const r4 = await measure(4, 8, true);
  const r7 = await measure(7, 8, true);
  // For comparison only (not a reported metric): the same with the WAL and guard in memory.
  const m4 = await measure(4, 4, false);
  console.log(
    `4 validators: ${r4.heightsPerS.toFixed(1)} heights/s, commit p50 ${r4.p50Ms.toFixed(2)} ms, p99 ${r4.p99Ms.toFixed(2)} ms (file WAL)`,
  );
  console.log(
    `7 validators: ${r7.heightsPerS.toFixed(1)} heights/s, p50 ${r7.p50Ms.toFixed(2)} ms (file WAL)`,
  );
  console.log(
    `4 validators, in-memory WAL and guard: ${m4.heightsPerS.toFixed(1)} heights/s, p99 ${m4.p99Ms.toFixed(2)} ms`,
  );
  return {
    heights_per_s_4: r4.heightsPerS,
    heights_per_s_7: r7.heightsPerS,
    commit_latency_p99_ms_4: r4.p99Ms,
  };
}
