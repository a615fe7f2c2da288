import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, createMetrics, type Hex, hexToBytes, type Metrics } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { sequencerKeyToPeerId } from "@dseq/p2p";
import { type ChainSpecInput, keyInfo, parseChainSpec, parseNodeConfig } from "../../src/index.ts";
import { DseqNode } from "../../src/node.ts";

/** A node config's `byzantine` section as written (every field optional). */
export type ByzantineInput = Partial<NonNullable<ReturnType<typeof parseNodeConfig>["byzantine"]>>;

/** Ports this process handed out: each is given once, and its user binds it later. */
const handedOut = new Set<number>();

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen({ port, host: "127.0.0.1", exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/**
 * A free TCP port on 127.0.0.1, closed before use. Drawn from 20000-32767, below Linux's
 * ephemeral range: a `listen(0)` port could be taken by one of the network's own outgoing
 * libp2p dials before its node binds it (seen in CI as EADDRINUSE on an RPC port), and never
 * one this process already handed out.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
}

export const devKey = (label: string): Uint8Array =>
  keccak256(new TextEncoder().encode(`dseq test key ${label}`));

export type LocalNet = {
  nodes: DseqNode[];
  /** Each node's metrics registry (by node index; a restart gets a new one). */
  metrics: Metrics[];
  /** Makes node i again from its config and key (after a stop), and starts it; `byzantine` replaces that section. */
  restart(i: number, opts?: { byzantine?: ByzantineInput; peers?: number[] }): Promise<DseqNode>;
  /** Adds and starts a follower (not in the validator set); `peers`: the validators it dials (default all). */
  addFollower(opts?: { peers?: number[] }): Promise<DseqNode>;
  /** Peer ids by node index. */
  peerIds: string[];
  rpcUrls: string[];
  keys: Uint8Array[];
  funded: { privateKey: Hex; address: Hex }[];
  dir: string;
  stop(): Promise<void>;
};

/** N validators in this process: real LevelDB in a temp dir, real libp2p on 127.0.0.1. */
export async function startLocalNet(opts: {
  validators: number;
  blockTimeMs?: number;
  logLevel?: "info" | "warn" | "debug";
  rpc?: boolean;
  /** Node indexes whose RPC answers preconfirmed receipts unasked (`rpc.preconfirmedReceipts`). */
  preconfirmedReceipts?: readonly number[];
  spanLength?: number;
  reelectAfterMisses?: number;
  /** Byzantine behaviours by node index (ADR 0105). */
  byzantine?: Record<number, ByzantineInput>;
}): Promise<LocalNet> {
  const dir = mkdtempSync(join(tmpdir(), "dseq-net-"));
  const keys = Array.from({ length: opts.validators }, (_, i) => devKey(`validator ${i}`));
  const infos = keys.map((k) => keyInfo(k));
  const funded = [0, 1, 2].map((i) => {
    const k = devKey(`funded ${i}`);
    return {
      privateKey: `0x${Buffer.from(k).toString("hex")}` as Hex,
      address: keyInfo(k).address.toLowerCase() as Hex,
    };
  });
  const spec: ChainSpecInput = {
    chainId: 1337,
    blockTimeMs: opts.blockTimeMs ?? 2000,
    genesis: {
      timestamp: Math.floor(Date.now() / 1000),
      alloc: Object.fromEntries(funded.map((f) => [f.address, { balance: (10n ** 24n).toString() }])),
    },
    validators: infos.map((info, i) => ({
      id: i + 1,
      owner: info.address.toLowerCase(),
      signer: info.address.toLowerCase(),
      signerPubkey: info.publicKey,
      locked: (50_000n * 10n ** 18n).toString(),
      rewardRecipient: info.address.toLowerCase(),
    })),
    rotation: { spanLength: opts.spanLength ?? 20, reelectAfterMisses: opts.reelectAfterMisses ?? 3 },
  };
  const parsed = parseChainSpec(spec);
  const ports = await Promise.all(keys.map(() => freePort()));
  const peerIds = await Promise.all(keys.map(async (k) => (await sequencerKeyToPeerId(k)).toString()));
  const addrs = keys.map((_, i) => `/ip4/127.0.0.1/tcp/${ports[i]}/p2p/${peerIds[i]}`);
  const nodes: DseqNode[] = [];
  const rpcUrls: string[] = [];
  const configs: ReturnType<typeof parseNodeConfig>[] = [];
  const allKeys = [...keys];
  const metrics: Metrics[] = [];
  const make = (i: number): DseqNode => {
    const logger = createLogger({ level: opts.logLevel ?? "warn", base: { node: `n${i}` } });
    metrics[i] = createMetrics();
    return new DseqNode(configs[i] as ReturnType<typeof parseNodeConfig>, parsed, {
      logger,
      metrics: metrics[i] as Metrics,
      privateKey: allKeys[i] as Uint8Array,
    });
  };
  const addNode = async (
    i: number,
    mode: "validator" | "follower",
    port: number,
    bootstrap = addrs.filter((_, j) => j !== i),
  ): Promise<void> => {
    const rpcPort = opts.rpc ? await freePort() : 0;
    configs[i] = parseNodeConfig({
      dataDir: join(dir, `n${i}`),
      mode,
      chain: { genesis: join(dir, "chain.json") },
      p2p: {
        listen: [`/ip4/127.0.0.1/tcp/${port}`],
        bootstrap,
        maxConnections: 16,
      },
      rpc: opts.rpc
        ? {
            http: { enabled: true, port: rpcPort },
            ws: { enabled: false },
            preconfirmedReceipts: opts.preconfirmedReceipts?.includes(i) === true,
          }
        : { http: { enabled: false }, ws: { enabled: false } },
      admin: { enabled: false },
      ...(opts.byzantine?.[i] ? { byzantine: opts.byzantine[i] } : {}),
    });
    rpcUrls[i] = `http://127.0.0.1:${rpcPort}`;
    nodes[i] = make(i);
  };
  for (const i of keys.keys()) await addNode(i, "validator", ports[i] as number);
  await Promise.all(nodes.map((n) => n.start()));
  return {
    nodes,
    metrics,
    keys,
    funded,
    dir,
    rpcUrls,
    peerIds,
    async restart(i, r = {}) {
      if (r.byzantine) {
        const { byzantine: _b, ...rest } = configs[i] as ReturnType<typeof parseNodeConfig>;
        configs[i] = parseNodeConfig({ ...rest, byzantine: r.byzantine });
      }
      if (r.peers) {
        const c = configs[i] as ReturnType<typeof parseNodeConfig>;
        c.p2p.bootstrap = r.peers.map((j) => addrs[j] as string);
      }
      nodes[i] = make(i);
      await (nodes[i] as DseqNode).start();
      return nodes[i] as DseqNode;
    },
    async addFollower(f = {}) {
      const i = allKeys.length;
      allKeys.push(devKey(`follower ${i}`));
      const bootstrap = f.peers ? f.peers.map((j) => addrs[j] as string) : addrs;
      await addNode(i, "follower", await freePort(), bootstrap);
      await (nodes[i] as DseqNode).start();
      return nodes[i] as DseqNode;
    },
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { hexToBytes };
