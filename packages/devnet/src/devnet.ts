import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Hex, Logger } from "@dseq/common";
import { loadAccounts } from "./accounts.ts";
import { byzantineConfigPatch } from "./byzantine.ts";
import { type ControlServer, startControlServer } from "./control.ts";
import { type DevnetNode, makeNode } from "./devnetNode.ts";
import { DevnetError, DevnetErrorCode } from "./errors.ts";
import {
  checkGenesisSetUnchanged,
  DEVNET_CHECKPOINT_INTERVAL_BLOCKS,
  type DevnetL1Settings,
  devnetGenesisDkg,
  genesisSetKey,
  l1MiningOf,
  lockGenesisValidators,
  rewardsOf,
  writeBatchSection,
  writeRewardsSection,
} from "./genesisStake.ts";
import { type DevnetL1, REWARDS_ACCOUNTS_FROM, SUBMITTER_ACCOUNTS_FROM, startDevnetL1 } from "./l1.ts";
import type { ProcessExit } from "./managedProcess.ts";
import {
  addNetworkValidator,
  CHAIN_SPEC_FILE,
  defaultGenerateOptions,
  generateNetwork,
  type NetworkInfo,
  type NodePorts,
  nodeDataDir,
  readNetwork,
  removeDevnetDir,
  VALIDATOR_LOCK,
  writeNodeConfig,
  writeNodeConfigs,
} from "./network.ts";
import { allocatePorts } from "./ports.ts";
import { isSupervisorAlive, readState, removeState, STATE_FILE, writeState } from "./state.ts";

export type { DevnetNode } from "./devnetNode.ts";
export {
  type DevnetBatchSettings,
  type DevnetL1Settings,
  L1_FILE,
  writeVerifierConfig,
} from "./genesisStake.ts";

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
  /**
   * Run the network on a dev L1 (ADR 0121): EDR, the contracts, the genesis validators locked
   * through the LockingPool, every node's `l1` config section. Undefined: no L1 (`--no-l1`).
   */
  l1?: DevnetL1Settings;
  logger?: Logger;
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
  /** The dev L1 (undefined with `--no-l1`). */
  readonly l1: DevnetL1 | undefined;
  /**
   * A new validator (L1 devnets): a new key, its node process started, then `lock` tokens
   * locked on L1 for it (default 50,000). It joins the set at the next span boundary.
   */
  addValidator(opts?: { lock?: bigint }): Promise<{ node: DevnetNode; sequencerId: number }>;
  /** Starts the L1 exit of a validator's stake (LockingPool `unlock`): it leaves at the next span. */
  unlockValidator(name: string): Promise<number>;
  node(name: string): DevnetNode;
  /** Stops every node (SIGTERM, then SIGKILL) and the control endpoint. Idempotent. */
  stop(): Promise<void>;
};

/** Reads or creates the network, writes configs with fresh ports, starts the nodes. */
export async function startDevnet(opts: StartDevnetOptions): Promise<Devnet> {
  const dataDir = resolve(opts.dataDir);
  const log = opts.logger;
  const existing = readState(dataDir);
  if (existing && isSupervisorAlive(existing)) {
    throw new DevnetError(
      DevnetErrorCode.Running,
      `a devnet supervisor (pid ${existing.supervisorPid}) is already running on ${dataDir}`,
    );
  }
  if (opts.fresh) removeDevnetDir(dataDir);
  let network = readNetwork(dataDir);
  if (network !== undefined && opts.l1) {
    throw new DevnetError(
      DevnetErrorCode.L1NeedsFresh,
      `${dataDir} holds a devnet whose dev L1 is gone (EDR keeps its chain in memory): add --fresh, or --no-l1`,
    );
  }
  const rewards = rewardsOf(opts.l1);
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
      ...(rewards
        ? { checkpointIntervalBlocks: rewards.checkpointIntervalBlocks ?? DEVNET_CHECKPOINT_INTERVAL_BLOCKS }
        : {}),
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
  let l1: DevnetL1 | undefined;
  let l1Section: Record<string, unknown> | undefined;
  const batchSections = new Map<string, Record<string, unknown>>();
  const rewardSections = new Map<string, Record<string, unknown>>();
  if (opts.l1) {
    // Batches (ADR 0155): the genesis DKG first, then the inbox is deployed with its group key.
    const batches = opts.l1.batches === false ? undefined : (opts.l1.batches ?? {});
    const genesisValidators = network.nodes.filter((n) => n.role === "validator").map((n) => n.name);
    const setKey = batches ? genesisSetKey(dataDir) : undefined;
    const groupKey = batches ? await devnetGenesisDkg(dataDir, genesisValidators, log) : undefined;
    l1 = await startDevnetL1({
      l2ChainId: network.chainId,
      blockTimeSeconds: opts.l1.blockTimeSeconds ?? 1,
      exitDelaySeconds: opts.l1.exitDelaySeconds ?? 60,
      ...(groupKey ? { groupKey } : {}),
      ...(log ? { logger: log } : {}),
    });
    try {
      l1Section = await lockGenesisValidators(dataDir, l1, opts.l1);
      if (batches && setKey !== undefined) {
        checkGenesisSetUnchanged(dataDir, setKey);
        for (const [i, name] of genesisValidators.entries()) {
          const account = l1.accounts[SUBMITTER_ACCOUNTS_FROM + i];
          batchSections.set(name, await writeBatchSection(nodeDataDir(dataDir, name), account, batches, i));
          const section = rewards
            ? await writeRewardsSection(
                nodeDataDir(dataDir, name),
                l1.accounts[REWARDS_ACCOUNTS_FROM + i],
                rewards,
              )
            : undefined;
          if (section) rewardSections.set(name, section);
        }
      }
      if (l1MiningOf(opts.l1) === "ticker") await l1.tickerMining();
      else await l1.intervalMining();
    } catch (err) {
      await l1.stop();
      throw err;
    }
    log?.info("dev L1 ready", { rpcUrl: l1.rpcUrl, ...l1Section });
  }
  const basePatch = byzantineConfigPatch(network, opts);
  const patch = l1Section
    ? (name: string, cfg: Record<string, unknown>) => {
        const batches = batchSections.get(name);
        const rewardsSection = rewardSections.get(name);
        const withL1 = {
          ...cfg,
          l1: l1Section,
          ...(batches ? { batches } : {}),
          ...(rewardsSection ? { rewards: rewardsSection } : {}),
        };
        return basePatch ? basePatch(name, withL1) : withL1;
      }
    : basePatch;
  const layouts = writeNodeConfigs(dataDir, network, ports, patch);
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
    if (!byName.has(name)) throw new DevnetError(DevnetErrorCode.UnknownNode, `no node named ${name}`);
  }

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(nodes.map((n) => n.stop()));
    await l1?.stop();
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
    l1,
    async addValidator(o = {}) {
      if (!l1) throw new DevnetError(DevnetErrorCode.NoL1, "add-validator needs the dev L1 (not --no-l1)");
      const net = network as NetworkInfo;
      const { node: added, publicKey } = await addNetworkValidator(dataDir, net);
      const [p2p, http, ws, admin] = (await allocatePorts(4)) as [number, number, number, number];
      const peers = nodes.map((n) => ({ peerId: n.peerId, p2p: n.ports.p2p }));
      // With batches on, the validator signs (and runs its set's DKG, so the rotation of ADR 0159
      // can land); it posts nothing: the submitter accounts belong to the genesis validators.
      if (batchSections.size > 0) batchSections.set(added.name, {});
      const layout = writeNodeConfig(dataDir, added, { p2p, http, ws, admin }, peers, patch);
      const n = makeNode(
        layout,
        bin,
        env,
        stopTimeoutMs,
        () => saveState(),
        (exit) => opts.onNodeExit?.(layout.name, exit, layout.logPath),
      );
      nodes.push(n);
      byName.set(n.name, n);
      (devnet.validators as DevnetNode[]).push(n);
      await n.start();
      await n.waitReady(opts.readyTimeoutMs ?? 60_000);
      const sequencerId = await l1.lock(added.address, publicKey, o.lock ?? VALIDATOR_LOCK);
      log?.info("validator added", { node: n.name, address: n.address, sequencerId });
      saveState();
      return { node: n, sequencerId };
    },
    async unlockValidator(name) {
      if (!l1) throw new DevnetError(DevnetErrorCode.NoL1, "unlock needs the dev L1 (not --no-l1)");
      const n = devnet.node(name);
      const id = await l1.idOf(n.address);
      if (id === 0) throw new DevnetError(DevnetErrorCode.L1UnknownSequencer, `${name} has no stake on L1`);
      await l1.unlock(id);
      return id;
    },
    node(name: string): DevnetNode {
      const n = byName.get(name);
      if (!n)
        throw new DevnetError(
          DevnetErrorCode.UnknownNode,
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
        DevnetErrorCode.Mismatch,
        `${dataDir} holds a devnet with ${key} = ${have[key]}, not ${want}: add --fresh to regenerate it`,
        { key, have: have[key], want },
      );
    }
  }
}

/** Removes a stale devnet.json left by a supervisor that died without cleaning up. */
export function clearStaleState(dataDir: string): void {
  const s = readState(dataDir);
  if (s && !isSupervisorAlive(s)) rmSync(join(resolve(dataDir), STATE_FILE), { force: true });
}
