import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Hex, hexToBytes, type Logger } from "@dseq/common";
import {
  genesisTssValidators,
  keystorePath,
  loadChainSpec,
  readKeyFile,
  runLocalGenesisDkg,
  SCRYPT_LIGHT,
  writeKeyFile,
} from "@dseq/node";
import { DevnetError, DevnetErrorCode } from "./errors.ts";
import type { DevnetL1 } from "./l1.ts";
import { CHAIN_SPEC_FILE, DEVNET_PASSWORD, nodeDataDir } from "./network.ts";

/** Where the devnet records its dev L1 (URLs, contract addresses, the nodes' l1 section). */
export const L1_FILE = "l1.json";

export type DevnetL1Settings = {
  /** Seconds between L1 blocks (default 1). */
  blockTimeSeconds?: number;
  /**
   * How the dev L1 mines after the setup (ADR 0186): `interval` (EDR interval mining, a block
   * every `blockTimeSeconds`; no blob transactions), or `ticker` (automine, a block per
   * transaction, plus an empty block every `blockTimeSeconds`; blob transactions land).
   * Default `ticker` when batches use blobs, else `interval`.
   */
  mining?: "interval" | "ticker";
  /** The nodes' confirmation depth (default 2). */
  confirmations?: number;
  /** The nodes' L1 poll interval, ms (default 500). */
  pollIntervalMs?: number;
  /** LockingPool exit delay, seconds (default 60). */
  exitDelaySeconds?: number;
  /** The nodes' wait for entries they cannot verify yet, ms (node default 1,500). */
  verifyWaitMs?: number;
  /**
   * Batches to L1 (ADR 0155): a genesis DKG among the validators, the inbox deployed with its
   * group key, every validator signing and posting from its own dev L1 account. Default on;
   * `false` keeps the fixed test key and posts nothing.
   */
  batches?: DevnetBatchSettings | false;
  /**
   * Reward checkpoints to L1 (ADR 0158): every genesis validator posts them
   * (LockingPool.submitRewards) from a second dev L1 account of its own. Default on with batches
   * (the group signs them); `false` posts none.
   */
  rewards?: DevnetRewardsSettings | false;
};

export type DevnetRewardsSettings = {
  /** Blocks between checkpoints (chain spec; default 150: 5 minutes of 2 s blocks). */
  checkpointIntervalBlocks?: number;
  /** L1 blocks on top of a checkpoint (default 2). */
  confirmations?: number;
  /** Poll interval, ms (default 1,000). */
  pollMs?: number;
  /** The poster whose turn a checkpoint is gets this long before the next one posts it (default 8 s). */
  takeoverMs?: number;
};

/** The devnet's checkpoint interval when rewards are on (a real network's default is a day). */
export const DEVNET_CHECKPOINT_INTERVAL_BLOCKS = 150;

/** The reward settings in force: undefined when rewards or batches are off (or there is no L1). */
export function rewardsOf(settings: DevnetL1Settings | undefined): DevnetRewardsSettings | undefined {
  if (!settings || settings.batches === false || settings.rewards === false) return undefined;
  return settings.rewards ?? {};
}

export type DevnetBatchSettings = {
  /**
   * Default `calldata`. `blobs`: every validator posts blobs; `alternate`: validators 1, 3, ...
   * post blobs and 2, 4, ... calldata, so a devnet's batches exercise both (ADR 0186). Blobs
   * need the `ticker` L1 mining (EDR refuses blob transactions while it interval-mines).
   */
  kind?: "calldata" | "blobs" | "alternate";
  /** Cut at this many blocks (default 15) or when the oldest is this old, s (default 20). */
  maxBlocks?: number;
  maxAgeSeconds?: number;
  /** L1 blocks on top of a batch (default 2). */
  confirmations?: number;
  /** The submitter whose turn a batch is gets this long before the next one cuts it (default 8 s). */
  takeoverMs?: number;
  pollMs?: number;
};

/** Where a devnet validator's L1 batch account lives (keystore v3, the devnet password). */
export const L1_BATCH_KEYSTORE = "keystore/l1-batch.json";
/** Its reward-posting account (a second sender: one nonce per account). */
export const L1_REWARDS_KEYSTORE = "keystore/l1-rewards.json";

/**
 * The genesis DKG of a fresh L1 devnet (ADR 0155): every genesis validator's key and data dir
 * on this machine, one libp2p host each on 127.0.0.1; each share sealed into
 * `<node>/data/tss/` with the devnet password. Returns the group key the inbox is deployed with.
 */
export async function devnetGenesisDkg(
  dataDir: string,
  validators: readonly string[],
  logger?: Logger,
): Promise<Hex> {
  const spec = loadChainSpec(join(dataDir, CHAIN_SPEC_FILE));
  const members = [];
  for (const name of validators) {
    const nodeDir = nodeDataDir(dataDir, name);
    members.push({
      privateKey: await readKeyFile(keystorePath(nodeDir), DEVNET_PASSWORD),
      dataDir: nodeDir,
      password: DEVNET_PASSWORD,
    });
  }
  try {
    const r = await runLocalGenesisDkg(spec, members, { scrypt: TSS_SCRYPT_LIGHT });
    logger?.info("genesis DKG done", {
      groupKey: r.groupKey,
      validators: r.validators,
      threshold: r.threshold,
      ms: r.ms,
    });
    return r.groupKey;
  } finally {
    for (const m of members) m.privateKey.fill(0);
  }
}

/** Light scrypt for devnet shares (devnet keys protect nothing; a real node uses the default). */
const TSS_SCRYPT_LIGHT = { N: 1 << 12, r: 8, p: 1 };

/** The genesis TSS set must not change when L1's lock rewrites the chain spec. */
export function checkGenesisSetUnchanged(dataDir: string, before: string): void {
  const after = genesisSetKey(dataDir);
  if (after !== before)
    throw new DevnetError(
      DevnetErrorCode.GenesisSetChanged,
      "the L1 lock changed the genesis TSS set after the DKG",
    );
}

export function genesisSetKey(dataDir: string): string {
  const set = genesisTssValidators(loadChainSpec(join(dataDir, CHAIN_SPEC_FILE)));
  return set
    .map((v) => `${v.party}:${v.power}`)
    .sort()
    .join(",");
}

/**
 * A validator's `batches` config section and its L1 account's keystore (account `index` of the
 * submitter accounts; none left: it signs but does not post).
 */
export async function writeBatchSection(
  nodeData: string,
  account: { privateKey: Hex } | undefined,
  s: DevnetBatchSettings,
  index = 0,
): Promise<Record<string, unknown>> {
  if (!account) return {};
  const file = join(nodeData, L1_BATCH_KEYSTORE);
  if (!existsSync(file))
    await writeKeyFile(file, hexToBytes(account.privateKey), DEVNET_PASSWORD, { scrypt: SCRYPT_LIGHT });
  return {
    submit: {
      l1Keystore: `./data/${L1_BATCH_KEYSTORE}`,
      kind: batchKindOf(s.kind, index),
      confirmations: s.confirmations ?? 2,
      pollMs: s.pollMs ?? 1000,
      maxBlocks: s.maxBlocks ?? 15,
      maxAgeSeconds: s.maxAgeSeconds ?? 20,
      takeoverMs: s.takeoverMs ?? 8000,
    },
  };
}

/**
 * Writes a genesis validator's reward-posting keystore (once) and returns its config's
 * `rewards` section; undefined without an account (more validators than dev accounts).
 */
export async function writeRewardsSection(
  nodeData: string,
  account: { privateKey: Hex } | undefined,
  s: DevnetRewardsSettings,
): Promise<Record<string, unknown> | undefined> {
  if (!account) return undefined;
  const file = join(nodeData, L1_REWARDS_KEYSTORE);
  if (!existsSync(file))
    await writeKeyFile(file, hexToBytes(account.privateKey), DEVNET_PASSWORD, { scrypt: SCRYPT_LIGHT });
  return {
    l1Keystore: `./data/${L1_REWARDS_KEYSTORE}`,
    confirmations: s.confirmations ?? 2,
    pollMs: s.pollMs ?? 1000,
    takeoverMs: s.takeoverMs ?? 8000,
  };
}

/** The node config's batch kind of the genesis validator at `index` (0-based). */
export function batchKindOf(kind: DevnetBatchSettings["kind"], index: number): "calldata" | "blobs" {
  if (kind === "alternate") return index % 2 === 0 ? "blobs" : "calldata";
  return kind ?? "calldata";
}

/** How the dev L1 mines after the setup: blob batches need the ticker (ADR 0186). */
export function l1MiningOf(settings: DevnetL1Settings): "interval" | "ticker" {
  if (settings.mining) return settings.mining;
  const b = settings.batches;
  return b && (b.kind === "blobs" || b.kind === "alternate") ? "ticker" : "interval";
}

/**
 * Locks every genesis validator's stake through the LockingPool (one owner account each), then
 * rewrites the chain spec's validators from what L1 holds, so the genesis set is L1's. Returns
 * the nodes' `l1` config section; its start block is after the genesis locks (the spec has them).
 */
export async function lockGenesisValidators(
  dataDir: string,
  l1: DevnetL1,
  settings: DevnetL1Settings,
): Promise<Record<string, unknown>> {
  const specPath = join(dataDir, CHAIN_SPEC_FILE);
  const spec = JSON.parse(readFileSync(specPath, "utf8")) as {
    validators: {
      id: number;
      owner: string;
      signer: Hex;
      signerPubkey: Hex;
      locked: string;
      status: string;
      rewardRecipient: string;
    }[];
  };
  const validators = [];
  for (const v of spec.validators) {
    const id = await l1.lock(v.signer, v.signerPubkey, BigInt(v.locked));
    const s = await l1.sequencer(id);
    validators.push({
      id,
      owner: s.owner,
      signer: s.signer,
      signerPubkey: v.signerPubkey,
      locked: s.locked.toString(),
      status: s.status,
      rewardRecipient: s.rewardRecipient,
    });
  }
  spec.validators = validators;
  writeFileSync(specPath, `${JSON.stringify(spec, null, 2)}\n`);
  const d = l1.deployment;
  const section = {
    endpoints: [l1.rpcUrl],
    chainId: l1.chainId,
    lockingPool: d.lockingPool,
    depositBridge: d.depositBridge,
    batchInbox: d.batchInbox,
    startBlock: Number(await l1.blockNumber()) + 1,
    confirmations: settings.confirmations ?? 2,
    pollIntervalMs: settings.pollIntervalMs ?? 500,
    ...(settings.verifyWaitMs === undefined ? {} : { verifyWaitMs: settings.verifyWaitMs }),
  };
  writeFileSync(
    join(dataDir, L1_FILE),
    `${JSON.stringify({ rpcUrl: l1.rpcUrl, edrUrl: l1.directUrl, token: d.token, ...section }, null, 2)}\n`,
  );
  return section;
}

/**
 * Writes to `path` the config of a `dseq derive` verifier of the devnet at `devnetDir`: what a
 * verifier needs, as the devnet records it (the chain spec and the nodes' l1 section), its own
 * data dir, JSON-RPC over HTTP on `port`.
 */
export function writeVerifierConfig(
  devnetDir: string,
  chainSpecPath: string,
  o: { path: string; dataDir: string; port: number },
): void {
  const l1 = JSON.parse(readFileSync(join(devnetDir, L1_FILE), "utf8")) as Record<string, unknown>;
  writeFileSync(
    o.path,
    JSON.stringify({
      dataDir: o.dataDir,
      chain: { genesis: chainSpecPath },
      rpc: { http: { port: o.port }, ws: { enabled: false } },
      log: { level: "info" },
      l1: {
        endpoints: l1.endpoints,
        chainId: l1.chainId,
        lockingPool: l1.lockingPool,
        depositBridge: l1.depositBridge,
        batchInbox: l1.batchInbox,
        startBlock: l1.startBlock,
        confirmations: l1.confirmations,
        pollIntervalMs: 300,
      },
    }),
  );
}
