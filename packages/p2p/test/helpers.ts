import { randomBytes } from "node:crypto";
import type { Hex } from "@dseq/common";
import { createMetrics, type Metrics } from "@dseq/common";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { P2pHost, type P2pModules } from "../src/host.ts";
import { publicKeyToAddress } from "../src/identity.ts";
import type { P2pOptionsInput } from "../src/options.ts";
import type { BlockSource } from "../src/types.ts";
import type { BlockWithCertificate } from "../src/wire.ts";

export const CHAIN_ID = 901n;
export const GENESIS = new Uint8Array(32).fill(7);

export function newKey(): Uint8Array {
  return secp256k1.utils.randomSecretKey();
}

export function keyAddress(key: Uint8Array): Hex {
  return publicKeyToAddress(secp256k1.getPublicKey(key, true));
}

/** Options that keep tests fast: short heartbeats and redial delays, 127.0.0.1 only. */
export function fastOptions(key: Uint8Array, over: Partial<P2pOptionsInput> = {}): P2pOptionsInput {
  return {
    privateKey: key,
    chainId: CHAIN_ID,
    genesisHash: GENESIS,
    listen: ["/ip4/127.0.0.1/tcp/0"],
    reconnect: { initialDelayMs: 100, maxDelayMs: 800, factor: 2 },
    pingIntervalMs: 500,
    dialTimeoutMs: 2_000,
    ...over,
    gossip: { heartbeatIntervalMs: 100, ...over.gossip },
  };
}

export type TestNet = { hosts: P2pHost[]; keys: Uint8Array[]; metrics: Metrics[]; stopAll(): Promise<void> };

/**
 * Starts `n` hosts; host i has hosts 0..i-1 as static peers, so the net is a full mesh and
 * every later host redials the earlier ones.
 */
export async function startNet(
  n: number,
  opts: {
    over?: (i: number) => Partial<P2pOptionsInput>;
    modules?: (i: number) => P2pModules;
    /** `mesh` (default): host i dials all earlier hosts; `line`: only host i-1. */
    topology?: "mesh" | "line";
  } = {},
): Promise<TestNet> {
  const keys = Array.from({ length: n }, () => newKey());
  const validators = new Set(keys.map(keyAddress));
  const hosts: P2pHost[] = [];
  const metrics: Metrics[] = [];
  const net: TestNet = {
    hosts,
    keys,
    metrics,
    async stopAll() {
      await Promise.all(hosts.map((h) => h.stop()));
    },
  };
  try {
    for (let i = 0; i < n; i++) {
      const key = keys[i] as Uint8Array;
      const m = createMetrics();
      metrics.push(m);
      const earlier = opts.topology === "line" ? hosts.slice(-1) : hosts;
      const staticPeers = earlier.map((h) => h.multiaddrs()[0] as string);
      const h = await P2pHost.create(fastOptions(key, { staticPeers, ...opts.over?.(i) }), {
        metrics: m,
        validators,
        ...opts.modules?.(i),
      });
      hosts.push(h);
      await h.start();
    }
  } catch (err) {
    await net.stopAll();
    throw err;
  }
  return net;
}

export async function waitFor(cond: () => boolean, timeoutMs = 10_000, what = "condition"): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until every host has passed the handshake with every other and sees them on `kinds`. */
export async function waitMesh(
  hosts: P2pHost[],
  kinds: ("tx" | "proposal" | "vote" | "tss")[] = [],
): Promise<void> {
  await waitFor(
    () =>
      hosts.every(
        (h) =>
          h.readyPeers().length === hosts.length - 1 &&
          kinds.every((k) => h.topicPeers(k).length === hosts.length - 1),
      ),
    15_000,
    "full mesh",
  );
}

export function makeBlocks(n: number, from = 1n): BlockWithCertificate[] {
  return Array.from({ length: n }, (_, i) => ({
    height: from + BigInt(i),
    block: randomBytes(100 + ((i * 37) % 900)),
    certificate: randomBytes(96),
  }));
}

/** A BlockSource over an array that records every getRange call. */
export function arraySource(
  blocks: BlockWithCertificate[],
): BlockSource & { calls: { from: bigint; count: number }[] } {
  const calls: { from: bigint; count: number }[] = [];
  const first = blocks[0]?.height ?? 1n;
  return {
    calls,
    head() {
      const last = blocks[blocks.length - 1];
      return last ? { height: last.height, hash: new Uint8Array(32).fill(1) } : { height: 0n, hash: GENESIS };
    },
    getRange(from, count) {
      calls.push({ from, count });
      const start = Number(from - first);
      if (start < 0) return [];
      return blocks.slice(start, start + count);
    },
  };
}
