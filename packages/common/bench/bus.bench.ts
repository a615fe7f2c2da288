import { EventBus } from "../src/index.ts";

export const description = "typed event bus: emit and delivery throughput, one listener";

type Events = { tick: { n: number } };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function once(n: number): Promise<{ emit: number; delivered: number }> {
  const bus = new EventBus<Events>({ name: "bench" });
  let got = 0;
  const done = new Promise<void>((resolve) => {
    bus.on("tick", () => {
      if (++got === n) resolve();
    });
  });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) bus.emit("tick", { n: i });
  const t1 = performance.now();
  await done;
  const t2 = performance.now();
  return { emit: n / ((t1 - t0) / 1000), delivered: n / ((t2 - t0) / 1000) };
}

export default async function run(): Promise<Record<string, number>> {
  const n = 200_000;
  await once(20_000); // warm-up
  const runs = [];
  for (let i = 0; i < 7; i++) runs.push(await once(n));
  return {
    bus_emit_per_s: Math.round(median(runs.map((r) => r.emit))),
    bus_delivered_per_s: Math.round(median(runs.map((r) => r.delivered))),
  };
}
