// `pnpm bench p2p`: 4 hosts in one process on 127.0.0.1, real TCP + Noise + Yamux + gossipsub.
import { randomBytes } from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { P2pHost } from "../src/host.ts";
import type { TopicKind } from "../src/topics.ts";

export const description =
  "4 hosts in one process: gossip latency of 200-byte messages at 500 msg/s, throughput of 100 KB messages";

const HOSTS = 4;
const RATE = 500;
const LATENCY_SECONDS = 8;
const WARMUP_SECONDS = 1;
const BIG_MESSAGES = 300;
const BIG_BYTES = 100 * 1024;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

/** CPU this process got since `from`, against wall time: on a shared machine the figures above are only as good as this share. */
function cpuShare(from: NodeJS.CpuUsage, t0: number): string {
  const used = process.cpuUsage(from);
  const cpuS = (used.user + used.system) / 1e6;
  const wallS = (performance.now() - t0) / 1000;
  return `process CPU ${cpuS.toFixed(2)} s over ${wallS.toFixed(2)} s wall (${((100 * cpuS) / wallS).toFixed(0)}% of one core)`;
}

async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function startHosts(): Promise<P2pHost[]> {
  const hosts: P2pHost[] = [];
  for (let i = 0; i < HOSTS; i++) {
    const h = await P2pHost.create({
      privateKey: secp256k1.utils.randomSecretKey(),
      chainId: 901n,
      genesisHash: new Uint8Array(32).fill(1),
      listen: ["/ip4/127.0.0.1/tcp/0"],
      staticPeers: hosts.map((x) => x.multiaddrs()[0] as string),
    });
    await h.start();
    hosts.push(h);
  }
  return hosts;
}

type Receiver = (kind: TopicKind, data: Uint8Array, host: number) => void;

function subscribeAll(hosts: P2pHost[], onMessage: Receiver): void {
  hosts.forEach((h, i) => {
    for (const kind of ["vote", "tx"] as const) {
      h.subscribe(kind, {
        decode: (d) => d,
        validate: () => "accept",
        onMessage: (d) => onMessage(kind, d, i),
      });
    }
  });
}

export default async function run(): Promise<Record<string, number>> {
  const hosts = await startHosts();
  try {
    let handler: Receiver = () => undefined;
    subscribeAll(hosts, (k, d, i) => handler(k, d, i));
    await waitUntil(
      () =>
        hosts.every(
          (h) => h.topicPeers("vote").length === HOSTS - 1 && h.topicPeers("tx").length === HOSTS - 1,
        ),
      20_000,
      "mesh",
    );
    // let gossipsub graft its meshes
    await new Promise((r) => setTimeout(r, 2_000));
    const publisher = hosts[0] as P2pHost;

    // ---- latency: 200-byte votes at 500 msg/s from one host, timed at the other three
    const latencies: number[] = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const warmupEnd = t0 + WARMUP_SECONDS * 1000;
    handler = (kind, d) => {
      if (kind !== "vote") return;
      const sent = Buffer.from(d.buffer, d.byteOffset, d.byteLength).readDoubleBE(0);
      if (sent >= warmupEnd) latencies.push(performance.now() - sent);
    };
    const total = RATE * LATENCY_SECONDS;
    let sent = 0;
    let measuredSends = 0;
    const pending: Promise<number>[] = [];
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * RATE) + 1);
      for (; sent < due; sent++) {
        const msg = randomBytes(200);
        const now = performance.now();
        msg.writeDoubleBE(now, 0);
        if (now >= warmupEnd) measuredSends++;
        pending.push(publisher.publish("vote", msg));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(pending);
    const measured = measuredSends * (HOSTS - 1);
    await waitUntil(() => latencies.length >= measured, 10_000, "latency deliveries").catch(() => undefined);
    latencies.sort((a, b) => a - b);
    console.log(`latency: ${latencies.length}/${measured} deliveries measured; ${cpuShare(cpu0, t0)}`);

    // ---- throughput: 100 KB messages as fast as the self-throttled publisher goes; counted
    // when every receiver has one (gossipsub does not promise delivery, so stop when stalled)
    const perHost = new Array<number>(HOSTS).fill(0);
    let lastDelivery = performance.now();
    handler = (kind, _d, i) => {
      if (kind !== "tx") return;
      perHost[i] = (perHost[i] ?? 0) + 1;
      lastDelivery = performance.now();
    };
    const delivered = (): number => Math.min(...perHost.slice(1));
    const big = Array.from({ length: BIG_MESSAGES }, () => randomBytes(BIG_BYTES));
    const cpu1 = process.cpuUsage();
    const start = performance.now();
    await Promise.all(big.map((m) => publisher.publish("tx", m)));
    while (delivered() < BIG_MESSAGES && performance.now() - lastDelivery < 10_000) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const seconds = (lastDelivery - start) / 1000;
    console.log(
      `throughput: ${delivered()}/${BIG_MESSAGES} x 100 KB reached all ${HOSTS - 1} peers in ${seconds.toFixed(2)} s; ${cpuShare(cpu1, start)}`,
    );

    return {
      gossip_latency_p50_ms: percentile(latencies, 50),
      gossip_latency_p99_ms: percentile(latencies, 99),
      gossip_throughput_100kb_msgs_per_s: delivered() / seconds,
    };
  } finally {
    await Promise.all(hosts.map((h) => h.stop()));
  }
}
