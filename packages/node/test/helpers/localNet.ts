import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, createMetrics, type Hex, hexToBytes } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { sequencerKeyToPeerId } from "@dseq/p2p";
import { type ChainSpecInput, keyInfo, parseChainSpec, parseNodeConfig } from "../../src/index.ts";
import { DseqNode } from "../../src/node.ts";

/** A free TCP port on 127.0.0.1 (the OS picks it; closed before use). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const devKey = (label: string): Uint8Array =>
  keccak256(new TextEncoder().encode(`dseq test key ${label}`));

export type LocalNet = {
  nodes: DseqNode[];
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
    rotation: { spanLength: 20, reelectAfterMisses: 3 },
  };
  const parsed = parseChainSpec(spec);
  const ports = await Promise.all(keys.map(() => freePort()));
  const addrs = await Promise.all(
    keys.map(
      async (k, i) => `/ip4/127.0.0.1/tcp/${ports[i]}/p2p/${(await sequencerKeyToPeerId(k)).toString()}`,
    ),
  );
  const nodes: DseqNode[] = [];
  for (const [i, key] of keys.entries()) {
    const config = parseNodeConfig({
      dataDir: join(dir, `val${i}`),
      chain: { genesis: join(dir, "chain.json") },
      p2p: {
        listen: [`/ip4/127.0.0.1/tcp/${ports[i]}`],
        bootstrap: addrs.filter((_, j) => j !== i),
        maxConnections: 16,
      },
      rpc: { http: { enabled: false }, ws: { enabled: false } },
      admin: { enabled: false },
    });
    const logger = createLogger({ level: opts.logLevel ?? "warn", base: { node: `val${i}` } });
    nodes.push(new DseqNode(config, parsed, { logger, metrics: createMetrics(), privateKey: key }));
  }
  await Promise.all(nodes.map((n) => n.start()));
  return {
    nodes,
    keys,
    funded,
    dir,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { hexToBytes };
