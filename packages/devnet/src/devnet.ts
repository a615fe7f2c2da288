import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { errorMessage, type Hex, type Logger } from "@dseq/common";
import { loadAccounts } from "./accounts.ts";
import { byzantineConfigPatch } from "./byzantine.ts";
import { type ControlServer, startControlServer } from "./control.ts";
import { DevnetError } from "./errors.ts";
import { blockNumber } from "./jsonRpc.ts";
import { ManagedProcess, type ProcessExit, type ProcessState } from "./managedProcess.ts";
import {
  CHAIN_SPEC_FILE,
  defaultGenerateOptions,
  generateNetwork,
  type NetworkInfo,
  type NodeLayout,
  type NodePorts,
  type NodeRole,
  readNetwork,
  removeDevnetDir,
  writeNodeConfigs,
} from "./network.ts";
import { allocatePorts } from "./ports.ts";
import { isSupervisorAlive, readState, removeState, STATE_FILE, writeState } from "./state.ts";

/** Where `dseq` lives in this workspace. */
export const DSEQ_BIN = resolve(import.meta.dirname, "..", "..", "node", "bin", "dseq.mjs");

export type StartDevnetOptions = {
  dataDir: string;
  validators?: number;
  followers?: number;
  blockTimeMs?: number;
  /** Delete the data dir first (only if it is a devnet dir). */
  fresh?: boolean;
  chainId?: number;
  spanLength?: number;
  reelectAfterMisses?: number;
  fundedAccounts?: number;
  loadAccounts?: number;
  /**
   * Genesis timestamp, seconds (default now). One in the past makes the validators produce the
   * missed slots back to back until the chain reaches the present (tests: a long history fast).
   */
  genesisTimestamp?: number;
  /** Names of nodes to start now (default all); the others wait for `node.start()`. */
  start?: string[];
  /** Wait until every started node answers eth_blockNumber (default true). */
  waitReady?: boolean;
  readyTimeoutMs?: number;
  /** SIGTERM grace period before SIGKILL. */
  stopTimeoutMs?: number;
  /** Serve fault injection on 127.0.0.1 and write `<dataDir>/devnet.json` (default true). */
  control?: boolean;
  /**
   * Byzantine behaviours by node name (`{v1: {equivocateVotes: true}}`): each becomes that node's
   * config `byzantine` section. Tests and research only (ADR 0105).
   */
  byzantine?: Record<string, Record<string, boolean | string | number>>;
  /** Changes a node's config object before it is written (tests: timeouts, log level). */
  patchConfig?: (name: string, config: Record<string, unknown>) => Record<string, unknown>;
  /** Extra environment for node processes. */
  env?: NodeJS.ProcessEnv;
  /** Called when a node process ends (crash, kill, stop). */
  onNodeExit?: (name: string, exit: ProcessExit, logPath: string) => void;
  /** The dseq CLI (default: $DSEQ_DEVNET_BIN, else packages/node/bin/dseq.mjs of this workspace). */
  dseqBin?: string;
  logger?: Logger;
};

export type DevnetNode = {
  readonly name: string;
  readonly role: NodeRole;
  readonly address: Hex;
  readonly peerId: string;
  readonly rpcUrl: string;
  readonly wsUrl: string;
  readonly adminUrl: string;
  readonly ports: NodePorts;
  readonly configPath: string;
  readonly logPath: string;
  readonly dataDir: string;
  readonly state: ProcessState;
  readonly pid: number | undefined;
  readonly lastExit: ProcessExit | undefined;
  /** Starts a stopped node (same config). */
  start(): Promise<void>;
  /** SIGKILL. */
  kill(): Promise<void>;
  /** Starts the process again with the same config (graceful stop first if it runs). */
  restart(): Promise<void>;
  /** SIGSTOP. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGTERM, SIGKILL after the grace period. */
  stop(): Promise<void>;
  /** Resolves when the node answers eth_blockNumber; rejects if it exits first. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** The last `lines` lines of node.log (for error messages). */
  logTail(lines?: number): string;
};

export type Devnet = {
  readonly dataDir: string;
  readonly chainId: number;
  readonly blockTimeMs: number;
  readonly chainSpecPath: string;
  readonly network: NetworkInfo;
  readonly nodes: DevnetNode[];
  readonly validators: DevnetNode[];
  readonly followers: DevnetNode[];
  /** Well-known funded accounts (10,000 tokens each). */
  readonly funded: { address: Hex; privateKey: Hex }[];
  /** Load-generator accounts (1,000 tokens each). */
  readonly loadAccounts: { address: Hex; privateKey: Hex }[];
  readonly controlUrl: string | undefined;
  node(name: string): DevnetNode;
  /** Stops every node (SIGTERM, then SIGKILL) and the control endpoint. Idempotent. */
  stop(): Promise<void>;
};

function tail(path: string, lines: number): string {
  if (!existsSync(path)) return "";
  const text = readFileSync(path, "utf8");
  return text.split("\n").filter(Boolean).slice(-lines).join("\n");
}

// Children must not outlive a supervisor that exits without calling stop() (uncaught error,
// process.exit in a test runner): one exit hook kills whatever is still registered.
const live = new Set<ManagedProcess>();
let exitHookInstalled = false;
function track(p: ManagedProcess): void {
  live.add(p);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const proc of live) proc.killSync();
    });
  }
}

/** Reads or creates the network, writes configs with fresh ports, starts the nodes. */
export async function startDevnet(opts: StartDevnetOptions): Promise<Devnet> {
  const dataDir = resolve(opts.dataDir);
  const log = opts.logger;
  const existing = readState(dataDir);
  if (existing && isSupervisorAlive(existing)) {
    throw new DevnetError(
      "DEVNET_RUNNING",
      `a devnet supervisor (pid ${existing.supervisorPid}) is already running on ${dataDir}`,
    );
  }
  if (opts.fresh) removeDevnetDir(dataDir);
  let network = readNetwork(dataDir);
  if (network === undefined) {
    log?.info("generating devnet", { dataDir });
    network = await generateNetwork({
      dataDir,
      validators: opts.validators ?? defaultGenerateOptions.validators,
      followers: opts.followers ?? defaultGenerateOptions.followers,
      blockTimeMs: opts.blockTimeMs ?? defaultGenerateOptions.blockTimeMs,
      chainId: opts.chainId ?? defaultGenerateOptions.chainId,
      spanLength: opts.spanLength ?? defaultGenerateOptions.spanLength,
      reelectAfterMisses: opts.reelectAfterMisses ?? defaultGenerateOptions.reelectAfterMisses,
      fundedAccounts: opts.fundedAccounts ?? defaultGenerateOptions.fundedAccounts,
      loadAccounts: opts.loadAccounts ?? defaultGenerateOptions.loadAccounts,
      ...(opts.genesisTimestamp !== undefined ? { genesisTimestamp: opts.genesisTimestamp } : {}),
    });
  } else {
    checkReuse(network, opts, dataDir);
  }

  const portList = await allocatePorts(network.nodes.length * 4);
  const ports = new Map<string, NodePorts>();
  network.nodes.forEach((n, i) => {
    ports.set(n.name, {
      p2p: portList[i * 4] as number,
      http: portList[i * 4 + 1] as number,
      ws: portList[i * 4 + 2] as number,
      admin: portList[i * 4 + 3] as number,
    });
  });
  const layouts = writeNodeConfigs(dataDir, network, ports, byzantineConfigPatch(network, opts));
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  // The config names the password file; an inherited variable would win over it.
  if (opts.env?.DSEQ_KEY_PASSWORD === undefined) delete env.DSEQ_KEY_PASSWORD;
  const stopTimeoutMs = opts.stopTimeoutMs ?? 10_000;
  const bin = opts.dseqBin ?? process.env.DSEQ_DEVNET_BIN ?? DSEQ_BIN;

  let control: ControlServer | undefined;
  const saveState = (): void => {
    if (control === undefined) return;
    writeState(dataDir, {
      version: 1,
      supervisorPid: process.pid,
      control: { url: control.url, token: control.token },
      chainId: network.chainId,
      chainSpecPath: join(dataDir, CHAIN_SPEC_FILE),
      startedAt: new Date().toISOString(),
      nodes: nodes.map((n) => ({
        name: n.name,
        role: n.role,
        address: n.address,
        rpcUrl: n.rpcUrl,
        wsUrl: n.wsUrl,
        adminUrl: n.adminUrl,
        state: n.state,
        pid: n.pid,
        logPath: n.logPath,
        configPath: n.configPath,
      })),
      funded: network.funded,
    });
  };

  const nodes: DevnetNode[] = layouts.map((l) =>
    makeNode(
      l,
      bin,
      env,
      stopTimeoutMs,
      () => saveState(),
      (exit) => opts.onNodeExit?.(l.name, exit, l.logPath),
    ),
  );
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const toStart = opts.start ?? nodes.map((n) => n.name);
  for (const name of toStart) {
    if (!byName.has(name)) throw new DevnetError("DEVNET_UNKNOWN_NODE", `no node named ${name}`);
  }

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(nodes.map((n) => n.stop()));
    await control?.close();
    if (control) removeState(dataDir);
  };

  const devnet: Devnet = {
    dataDir,
    chainId: network.chainId,
    blockTimeMs: network.blockTimeMs,
    chainSpecPath: join(dataDir, CHAIN_SPEC_FILE),
    network,
    nodes,
    validators: nodes.filter((n) => n.role === "validator"),
    followers: nodes.filter((n) => n.role === "follower"),
    funded: network.funded,
    loadAccounts: loadAccounts(network.loadAccounts),
    get controlUrl() {
      return control?.url;
    },
    node(name: string): DevnetNode {
      const n = byName.get(name);
      if (!n)
        throw new DevnetError(
          "DEVNET_UNKNOWN_NODE",
          `no node named ${name} (${[...byName.keys()].join(", ")})`,
        );
      return n;
    },
    stop,
  };

  try {
    if (opts.control ?? true) {
      control = await startControlServer(devnet, log);
    }
    for (const name of toStart) await (byName.get(name) as DevnetNode).start();
    saveState();
    if (opts.waitReady ?? true) {
      const timeout = opts.readyTimeoutMs ?? 60_000;
      await Promise.all(toStart.map((name) => (byName.get(name) as DevnetNode).waitReady(timeout)));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return devnet;
}

function checkReuse(network: NetworkInfo, opts: StartDevnetOptions, dataDir: string): void {
  const have = {
    validators: network.nodes.filter((n) => n.role === "validator").length,
    followers: network.nodes.filter((n) => n.role === "follower").length,
    blockTimeMs: network.blockTimeMs,
    chainId: network.chainId,
  };
  for (const key of Object.keys(have) as (keyof typeof have)[]) {
    const want = opts[key];
    if (want !== undefined && want !== have[key]) {
      throw new DevnetError(
        "DEVNET_MISMATCH",
        `${dataDir} holds a devnet with ${key} = ${have[key]}, not ${want}: add --fresh to regenerate it`,
        { key, have: have[key], want },
      );
    }
  }
}

function makeNode(
  l: NodeLayout,
  bin: string,
  env: NodeJS.ProcessEnv,
  stopTimeoutMs: number,
  changed: () => void,
  exited: (exit: ProcessExit) => void,
): DevnetNode {
  const proc = new ManagedProcess({
    name: l.name,
    command: process.execPath,
    args: [bin, "start", "--config", l.configPath],
    env,
    logPath: l.logPath,
  });
  proc.onExit = (exit) => {
    changed();
    exited(exit);
  };
  track(proc);
  const node: DevnetNode = {
    name: l.name,
    role: l.role,
    address: l.address,
    peerId: l.peerId,
    rpcUrl: l.rpcUrl,
    wsUrl: l.wsUrl,
    adminUrl: l.adminUrl,
    ports: l.ports,
    configPath: l.configPath,
    logPath: l.logPath,
    dataDir: l.dataDir,
    get state() {
      return proc.state;
    },
    get pid() {
      return proc.pid;
    },
    get lastExit() {
      return proc.lastExit;
    },
    async start() {
      proc.start();
      changed();
    },
    async kill() {
      await proc.kill();
      changed();
    },
    async restart() {
      await proc.restart(stopTimeoutMs);
      changed();
    },
    pause() {
      proc.pause();
      changed();
    },
    resume() {
      proc.resume();
      changed();
    },
    async stop() {
      await proc.stop(stopTimeoutMs);
      changed();
    },
    async waitReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (proc.state === "stopped") {
          const e = proc.lastExit;
          throw new DevnetError(
            "DEVNET_NODE_EXITED",
            `${l.name} exited (code ${e?.code ?? "?"}, signal ${e?.signal ?? "none"}) before its RPC answered; last log lines of ${l.logPath}:\n${tail(l.logPath, 15)}`,
            { node: l.name, exit: e },
          );
        }
        try {
          await blockNumber(l.rpcUrl, 1000);
          return;
        } catch (err) {
          if (Date.now() > deadline) {
            throw new DevnetError(
              "DEVNET_NODE_NOT_READY",
              `${l.name} did not answer on ${l.rpcUrl} within ${timeoutMs} ms (${errorMessage(err)}); last log lines of ${l.logPath}:\n${tail(l.logPath, 15)}`,
              { node: l.name },
            );
          }
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    logTail(lines = 20) {
      return tail(l.logPath, lines);
    },
  };
  return node;
}

/** Removes a stale devnet.json left by a supervisor that died without cleaning up. */
export function clearStaleState(dataDir: string): void {
  const s = readState(dataDir);
  if (s && !isSupervisorAlive(s)) rmSync(join(resolve(dataDir), STATE_FILE), { force: true });
}
