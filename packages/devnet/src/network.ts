import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { bytesToHex, type Hex, hexToBytes } from "@dseq/common";
import {
  type ChainSpecInput,
  chainSpecToJson,
  keyInfo,
  keystorePath,
  parseChainSpec,
  SCRYPT_LIGHT,
  writeKeyFile,
} from "@dseq/node";
import { sequencerKeyToPeerId } from "@dseq/p2p";
import { generatePrivateKey } from "viem/accounts";
import { type DevAccount, loadAccounts, wellKnownAccounts } from "./accounts.ts";
import { DevnetError, DevnetErrorCode } from "./errors.ts";

/**
 * The persistent part of a devnet data dir (what `--fresh` throws away):
 *
 *   <dataDir>/network.json        names, roles, addresses, peer ids (no secrets)
 *   <dataDir>/chain.json          the chain spec every node loads
 *   <dataDir>/password.txt        the keystore password of every devnet key
 *   <dataDir>/<node>/data/        the node's own data dir (keystore/key.json, chain, WAL)
 *
 * Node configs (`<dataDir>/<node>/config.json`) are rewritten on every start with fresh ports.
 */
export const NETWORK_FILE = "network.json";
export const CHAIN_SPEC_FILE = "chain.json";
export const PASSWORD_FILE = "password.txt";
/** Well known, like the funded accounts: devnet keys protect nothing. */
export const DEVNET_PASSWORD = "dseq-devnet";

export const TOKEN = 10n ** 18n;
/** 50,000 tokens locked per validator: between the 20,000 minimum and the 100,000 cap. */
export const VALIDATOR_LOCK = 50_000n * TOKEN;
/**
 * Gas per devnet block: 300M per 2 s block, 14,285 transfers, ~7,100/s, above what the machine
 * can execute, so the limit never binds a benchmark (ADR 0160). maxBlockBytes (2 MiB, ~18,000
 * transfers) does not bind either.
 */
export const DEVNET_GAS_LIMIT = 300_000_000;

export type NodeRole = "validator" | "follower";

export type NetworkNode = {
  name: string;
  role: NodeRole;
  /** The node key's address (validator signer; a follower's p2p identity). */
  address: Hex;
  peerId: string;
};

export type NetworkInfo = {
  version: 1;
  chainId: number;
  blockTimeMs: number;
  spanLength: number;
  reelectAfterMisses: number;
  createdAt: string;
  nodes: NetworkNode[];
  funded: DevAccount[];
  loadAccounts: number;
};

export type GenerateNetworkOptions = {
  dataDir: string;
  validators: number;
  followers: number;
  blockTimeMs: number;
  chainId: number;
  spanLength: number;
  reelectAfterMisses: number;
  /** Well-known funded accounts (10,000 tokens each). */
  fundedAccounts: number;
  /** Load-generator accounts (1,000 tokens each). */
  loadAccounts: number;
  /** Genesis timestamp in seconds; default now. */
  genesisTimestamp?: number;
  /** Gas per block (default DEVNET_GAS_LIMIT). */
  gasLimit?: number;
  /** Blocks between reward checkpoints (chain spec `rotation`; default the node's, a day). */
  checkpointIntervalBlocks?: number;
};

export const defaultGenerateOptions = {
  validators: 4,
  followers: 1,
  blockTimeMs: 2000,
  chainId: 13_370,
  spanLength: 30,
  reelectAfterMisses: 3,
  fundedAccounts: 10,
  loadAccounts: 256,
} as const;

export function nodeNames(validators: number, followers: number): { name: string; role: NodeRole }[] {
  const out: { name: string; role: NodeRole }[] = [];
  for (let i = 1; i <= validators; i++) out.push({ name: `v${i}`, role: "validator" });
  for (let i = 1; i <= followers; i++) out.push({ name: `f${i}`, role: "follower" });
  return out;
}

export function nodeDir(dataDir: string, name: string): string {
  return join(dataDir, name);
}

export function nodeDataDir(dataDir: string, name: string): string {
  return join(dataDir, name, "data");
}

/** The chain spec of a devnet (pure: same inputs, same spec). */
export function buildChainSpec(
  opts: Pick<
    GenerateNetworkOptions,
    "chainId" | "blockTimeMs" | "spanLength" | "reelectAfterMisses" | "gasLimit" | "checkpointIntervalBlocks"
  >,
  validators: { address: Hex; publicKey: Hex }[],
  funded: DevAccount[],
  load: DevAccount[],
  genesisTimestamp: number,
): ChainSpecInput {
  const alloc: Record<string, { balance: string }> = {};
  for (const a of funded) alloc[a.address] = { balance: (10_000n * TOKEN).toString() };
  for (const a of load) alloc[a.address] = { balance: (1_000n * TOKEN).toString() };
  return {
    name: "dseq-devnet",
    chainId: opts.chainId,
    blockTimeMs: opts.blockTimeMs,
    genesis: {
      timestamp: genesisTimestamp,
      gasLimit: opts.gasLimit ?? DEVNET_GAS_LIMIT,
      baseFeePerGas: "1000000000",
      alloc,
    },
    validators: validators.map((v, i) => ({
      id: i + 1,
      owner: v.address,
      signer: v.address,
      signerPubkey: v.publicKey.slice(2),
      locked: VALIDATOR_LOCK.toString(),
      status: "active",
      rewardRecipient: v.address,
    })),
    rotation: {
      spanLength: opts.spanLength,
      reelectAfterMisses: opts.reelectAfterMisses,
      ...(opts.checkpointIntervalBlocks !== undefined
        ? { checkpointIntervalBlocks: opts.checkpointIntervalBlocks }
        : {}),
    },
  };
}

/** True when `dir` is missing, empty, or was made by the devnet (has network.json). */
export function isDevnetDirOrEmpty(dir: string): boolean {
  if (!existsSync(dir)) return true;
  if (existsSync(join(dir, NETWORK_FILE))) return true;
  return readdirSync(dir).length === 0;
}

/**
 * Removes a devnet data dir. Refuses a folder the devnet did not make, so a mistyped
 * `--datadir ~ --fresh` deletes nothing.
 */
export function removeDevnetDir(dir: string): void {
  if (!isDevnetDirOrEmpty(dir)) {
    throw new DevnetError(
      DevnetErrorCode.NotADevnetDir,
      `${dir} is not empty and has no ${NETWORK_FILE}: refusing to delete it (pick another --datadir)`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Creates keys (keystore v3, light scrypt), the chain spec and network.json in a new data dir.
 * Refuses a dir that already holds a network.
 */
export async function generateNetwork(opts: GenerateNetworkOptions): Promise<NetworkInfo> {
  const dataDir = resolve(opts.dataDir);
  if (existsSync(join(dataDir, NETWORK_FILE))) {
    throw new DevnetError(
      DevnetErrorCode.Exists,
      `${dataDir} already holds a devnet (use --fresh to replace it)`,
    );
  }
  if (!isDevnetDirOrEmpty(dataDir)) {
    throw new DevnetError(
      DevnetErrorCode.NotADevnetDir,
      `${dataDir} is not empty and is not a devnet data dir: pick another --datadir`,
    );
  }
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(join(dataDir, PASSWORD_FILE), `${DEVNET_PASSWORD}\n`, { mode: 0o600 });

  const nodes: NetworkNode[] = [];
  const validatorKeys: { address: Hex; publicKey: Hex }[] = [];
  for (const { name, role } of nodeNames(opts.validators, opts.followers)) {
    const priv = hexToBytes(generatePrivateKey());
    const info = keyInfo(priv);
    await writeKeyFile(keystorePath(nodeDataDir(dataDir, name)), priv, DEVNET_PASSWORD, {
      scrypt: SCRYPT_LIGHT,
    });
    const address = info.address.toLowerCase() as Hex;
    nodes.push({ name, role, address, peerId: sequencerKeyToPeerId(priv).toString() });
    if (role === "validator") validatorKeys.push({ address, publicKey: info.publicKey as Hex });
    priv.fill(0);
  }
  const funded = wellKnownAccounts(opts.fundedAccounts);
  const load = loadAccounts(opts.loadAccounts);
  const spec = buildChainSpec(
    opts,
    validatorKeys,
    funded,
    load,
    opts.genesisTimestamp ?? Math.floor(Date.now() / 1000),
  );
  parseChainSpec(spec); // our own output must pass the node's validation
  writeFileSync(join(dataDir, CHAIN_SPEC_FILE), `${chainSpecToJson(spec)}\n`);

  const network: NetworkInfo = {
    version: 1,
    chainId: opts.chainId,
    blockTimeMs: opts.blockTimeMs,
    spanLength: opts.spanLength,
    reelectAfterMisses: opts.reelectAfterMisses,
    createdAt: new Date().toISOString(),
    nodes,
    funded,
    loadAccounts: opts.loadAccounts,
  };
  writeFileSync(join(dataDir, NETWORK_FILE), `${JSON.stringify(network, null, 2)}\n`);
  return network;
}

/** Reads `<dataDir>/network.json`, or undefined when the dir holds no devnet. */
export function readNetwork(dataDir: string): NetworkInfo | undefined {
  const path = join(resolve(dataDir), NETWORK_FILE);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new DevnetError(
      DevnetErrorCode.Corrupt,
      `${path} is not valid JSON (use --fresh to start over)`,
      {},
      err,
    );
  }
  const n = raw as Partial<NetworkInfo>;
  if (n.version !== 1 || !Array.isArray(n.nodes) || typeof n.chainId !== "number") {
    throw new DevnetError(
      DevnetErrorCode.Corrupt,
      `${path} is not a devnet network file (use --fresh to start over)`,
    );
  }
  return n as NetworkInfo;
}

export type NodePorts = { p2p: number; http: number; ws: number; admin: number };

/** The node config object for one devnet node (relative paths: the config sits in the node dir). */
export function buildNodeConfig(
  node: NetworkNode,
  ports: NodePorts,
  peers: { peerId: string; p2p: number }[],
  opts: { logLevel?: string } = {},
): Record<string, unknown> {
  return {
    dataDir: "./data",
    mode: node.role,
    chain: { genesis: `../${CHAIN_SPEC_FILE}` },
    key: { passwordFile: `../${PASSWORD_FILE}` },
    p2p: {
      listen: [`/ip4/127.0.0.1/tcp/${ports.p2p}`],
      bootstrap: peers.map((p) => `/ip4/127.0.0.1/tcp/${p.p2p}/p2p/${p.peerId}`),
    },
    rpc: {
      http: { enabled: true, host: "127.0.0.1", port: ports.http },
      ws: { enabled: true, host: "127.0.0.1", port: ports.ws },
    },
    admin: { enabled: true, host: "127.0.0.1", port: ports.admin },
    log: { level: opts.logLevel ?? "info", format: "json" },
  };
}

export type NodeLayout = NetworkNode & {
  dir: string;
  dataDir: string;
  configPath: string;
  logPath: string;
  ports: NodePorts;
  rpcUrl: string;
  wsUrl: string;
  adminUrl: string;
};

/**
 * Writes every node's config.json with the given ports; every node bootstraps from every other.
 * `patch` lets tests and benchmarks change fields (consensus timeouts, log level).
 */
export function writeNodeConfigs(
  dataDir: string,
  network: NetworkInfo,
  ports: Map<string, NodePorts>,
  patch?: (name: string, config: Record<string, unknown>) => Record<string, unknown>,
): NodeLayout[] {
  return network.nodes.map((node) => {
    const p = ports.get(node.name);
    if (!p) throw new DevnetError(DevnetErrorCode.Internal, `no ports for ${node.name}`);
    const peers = network.nodes
      .filter((o) => o.name !== node.name)
      .map((o) => ({ peerId: o.peerId, p2p: (ports.get(o.name) as NodePorts).p2p }));
    return writeNodeConfig(dataDir, node, p, peers, patch);
  });
}

/** Writes one node's config.json (bootstrapping from `peers`) and returns its layout. */
export function writeNodeConfig(
  dataDir: string,
  node: NetworkNode,
  p: NodePorts,
  peers: { peerId: string; p2p: number }[],
  patch?: (name: string, config: Record<string, unknown>) => Record<string, unknown>,
): NodeLayout {
  const root = resolve(dataDir);
  let cfg = buildNodeConfig(node, p, peers);
  if (patch) cfg = patch(node.name, cfg);
  const dir = nodeDir(root, node.name);
  mkdirSync(dir, { recursive: true });
  const configPath = join(dir, "config.json");
  writeFileSync(configPath, `${JSON.stringify(cfg, null, 2)}\n`);
  return {
    ...node,
    dir,
    dataDir: nodeDataDir(root, node.name),
    configPath,
    logPath: join(dir, "node.log"),
    ports: p,
    rpcUrl: `http://127.0.0.1:${p.http}`,
    wsUrl: `ws://127.0.0.1:${p.ws}`,
    adminUrl: `http://127.0.0.1:${p.admin}`,
  };
}

/**
 * A new validator of an existing devnet (`add-validator`): a key in `<dataDir>/<name>/data`, its
 * entry in network.json. It joins the set only once its stake is locked on L1.
 */
export async function addNetworkValidator(
  dataDir: string,
  network: NetworkInfo,
): Promise<{ node: NetworkNode; publicKey: Hex }> {
  const root = resolve(dataDir);
  const n = network.nodes.filter((x) => x.role === "validator").length + 1;
  let name = `v${n}`;
  for (let k = n; network.nodes.some((x) => x.name === name); k++) name = `v${k + 1}`;
  const priv = hexToBytes(generatePrivateKey());
  const info = keyInfo(priv);
  await writeKeyFile(keystorePath(nodeDataDir(root, name)), priv, DEVNET_PASSWORD, { scrypt: SCRYPT_LIGHT });
  const node: NetworkNode = {
    name,
    role: "validator",
    address: info.address.toLowerCase() as Hex,
    peerId: sequencerKeyToPeerId(priv).toString(),
  };
  priv.fill(0);
  network.nodes.push(node);
  writeFileSync(join(root, NETWORK_FILE), `${JSON.stringify(network, null, 2)}\n`);
  return { node, publicKey: info.publicKey as Hex };
}

/** Ensures a hex address is lower-case 0x-prefixed (network.json and logs compare on it). */
export function normalizeAddress(a: string): Hex {
  return bytesToHex(hexToBytes(a as Hex));
}
