import { readFileSync } from "node:fs";
import { dirname, extname, isAbsolute, resolve } from "node:path";
import { DseqError } from "@dseq/common";
import { parse as parseToml } from "smol-toml";
import { z } from "zod";
import { NodeErrorCode } from "./errors.ts";

/**
 * The node's one config file (JSON or TOML). Every field is documented here and in
 * configs/node.example.toml; relative paths are resolved against the config file's folder.
 * Secrets never live in it: the keystore password comes from DSEQ_KEY_PASSWORD, a password
 * file, or a prompt.
 */
const port = z.number().int().min(1).max(65535);
const host = z.string().min(1);

export const nodeConfigSchema = z
  .object({
    /** The node's data dir: chain store, consensus WAL, double-sign guard, keystore. */
    dataDir: z.string().min(1),
    /** The chain config (genesis, validator set, protocol parameters) every node shares. */
    chain: z.object({ genesis: z.string().min(1) }).strict(),
    key: z
      .object({
        /** Keystore v3 file; default `<dataDir>/keystore/key.json`. Absent = follower. */
        keystore: z.string().min(1).optional(),
        /** A file whose first line is the keystore password (DSEQ_KEY_PASSWORD wins). */
        passwordFile: z.string().min(1).optional(),
      })
      .strict()
      .default({}),
    /** `validator` needs a key in the set; `follower` syncs and serves RPC only. */
    mode: z.enum(["validator", "follower"]).default("validator"),
    p2p: z
      .object({
        listen: z.array(z.string().startsWith("/")).min(1).default(["/ip4/127.0.0.1/tcp/0"]),
        bootstrap: z.array(z.string().startsWith("/")).default([]),
        maxConnections: z.number().int().min(1).max(1000).default(64),
      })
      .strict()
      .default({ listen: ["/ip4/127.0.0.1/tcp/0"], bootstrap: [], maxConnections: 64 }),
    rpc: z
      .object({
        http: z
          .object({
            enabled: z.boolean().default(true),
            host: host.default("127.0.0.1"),
            port: port.default(8545),
          })
          .strict()
          .prefault({}),
        ws: z
          .object({
            enabled: z.boolean().default(true),
            host: host.default("127.0.0.1"),
            port: port.default(8546),
          })
          .strict()
          .prefault({}),
        cors: z.array(z.string()).default([]),
        maxBodyBytes: z
          .number()
          .int()
          .min(1024)
          .default(5 * 1024 * 1024),
        maxBatch: z.number().int().min(1).max(10_000).default(100),
        timeoutMs: z.number().int().min(100).default(30_000),
        getLogsMaxRange: z.number().int().min(1).default(10_000),
        /** eth_getTransactionReceipt answers preconfirmed receipts unasked (Flashblocks-style, ADR 0179). */
        preconfirmedReceipts: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    admin: z
      .object({
        enabled: z.boolean().default(true),
        host: host.default("127.0.0.1"),
        port: port.default(9545),
      })
      .strict()
      .prefault({}),
    consensus: z
      .object({
        emptyBlocks: z.boolean().default(true),
        continuousBuild: z.boolean().default(true),
        timeoutProposeMs: z.number().int().min(50).default(1000),
        timeoutPrevoteMs: z.number().int().min(50).default(500),
        timeoutPrecommitMs: z.number().int().min(50).default(500),
        timeoutDeltaMs: z.number().int().min(0).default(250),
        /** Share of the propose window a block's estimated re-execution may take (ADR 0165). */
        buildBudgetShare: z.number().gt(0).max(1).default(0.5),
      })
      .strict()
      .prefault({}),
    txpool: z
      .object({
        accountSlots: z.number().int().min(1).default(64),
        globalSlots: z.number().int().min(1).default(8192),
        queuedLifetimeSec: z
          .number()
          .int()
          .min(1)
          .default(3 * 3600),
        minTipWei: z.string().regex(/^\d+$/, "a decimal integer string of wei").default("0"),
        journal: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /**
     * The L1 the network's stake and deposits live on (ADR 0120). Absent: no L1 (stake from the
     * chain spec only, no deposits), exactly as before.
     */
    l1: z
      .object({
        /** JSON-RPC endpoints in order of preference (`http(s)://`, `ws(s)://`). */
        endpoints: z.array(z.string().regex(/^(https?|wss?):\/\//, "an http(s):// or ws(s):// URL")).min(1),
        chainId: z.number().int().min(1),
        lockingPool: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
        depositBridge: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
        batchInbox: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
        /** First L1 block read: after the genesis stake (which the chain spec holds) was locked. */
        startBlock: z.number().int().min(0),
        /** L1 blocks behind the head before an event counts (listener default 12). */
        confirmations: z.number().int().min(0).default(12),
        /** Between L1 polls when caught up, ms (listener default 4,000). */
        pollIntervalMs: z.number().int().min(50).default(4000),
        /** How long a validator waits for its L1 to confirm a proposal's entries before nil (ADR 0120). */
        verifyWaitMs: z.number().int().min(0).default(1500),
      })
      .strict()
      .optional(),
    /**
     * Batches to L1 (ADR 0154): a validator with this section runs the TSS (genesis share in
     * `<dataDir>/tss`, sealed with the keystore password) and signs every batch it can rebuild
     * from its own chain; with `submit` it also cuts, signs and posts batches from its own funded
     * L1 account. Needs the `l1` section (its first http(s) endpoint and `batchInbox`).
     */
    batches: z
      .object({
        submit: z
          .object({
            /** Keystore v3 of the funded L1 account (same password as the node key). Never logged. */
            l1Keystore: z.string().min(1),
            /** `blobs` (EIP-4844) or `calldata`. */
            kind: z.enum(["blobs", "calldata"]).default("blobs"),
            /** L1 blocks on top of a batch before it counts as posted. */
            confirmations: z.number().int().min(1).max(1000).default(6),
            pollMs: z.number().int().min(50).default(2000),
            /** Cut a batch at this many blocks, or when its oldest block is this old. */
            maxBlocks: z.number().int().min(1).max(10_000).default(150),
            maxAgeSeconds: z.number().int().min(1).default(300),
            /** Replace a batch transaction not mined after this long (fee bump). */
            resubmitAfterMs: z.number().int().min(1000).default(60_000),
            /** How long the submitter whose turn a batch is gets before the next one cuts it. */
            takeoverMs: z.number().int().min(100).default(30_000),
          })
          .strict()
          .optional(),
        /** A signing request waits this long for a quorum of shares. */
        signDeadlineMs: z.number().int().min(1000).default(30_000),
      })
      .strict()
      .optional(),
    /**
     * Reward checkpoints to L1 (ADR 0158): with `batches`, every validator signs the checkpoints it
     * rebuilds from its own chain; with this section it also posts them (LockingPool.submitRewards)
     * from its own funded L1 account, a different one from the batch account (one nonce, two senders).
     * When checkpoints are cut is the chain spec's `rotation.checkpointIntervalBlocks`.
     */
    rewards: z
      .object({
        /** Keystore v3 of the funded L1 account (same password as the node key). Never logged. */
        l1Keystore: z.string().min(1),
        /** L1 blocks on top of a checkpoint before it counts as posted. */
        confirmations: z.number().int().min(1).max(1000).default(6),
        pollMs: z.number().int().min(50).default(5000),
        /** Replace a submitRewards transaction not mined after this long (same nonce, higher fees). */
        resubmitAfterMs: z.number().int().min(1000).default(60_000),
        /** How long the submitter whose turn a checkpoint is gets before the next one posts it. */
        takeoverMs: z.number().int().min(100).default(30_000),
      })
      .strict()
      .optional(),
    /**
     * For tests and research only; never on a real network. Makes this node misbehave at its
     * seams (ADR 0105); the node logs a loud warning at start when any flag is on.
     */
    byzantine: z
      .object({
        /** As proposer, also sign and gossip a second block for the same (height, round). */
        equivocateProposals: z.boolean().default(false),
        /** For each own prevote/precommit, also gossip a conflicting signed vote. */
        equivocateVotes: z.boolean().default(false),
        /** As round-0 proposer, also sign and gossip a conflicting twin of every stream fragment (ADR 0171). */
        equivocateFragments: z.boolean().default(false),
        /** Own proposals name a wrong round in extraData: the next one, 0xffffffff, or 0 (rounds >= 1). */
        wrongRound: z.enum(["off", "later", "max", "zero"]).default("off"),
        /** Build proposals past the chain spec's maxBlockBytes (the pool admits them too). */
        oversizedBlock: z.boolean().default(false),
        /** Publish random bytes and malformed envelopes on the vote and proposal topics. */
        garbageGossip: z.boolean().default(false),
        garbageGossipEveryMs: z.number().int().min(10).default(200),
        /** Re-publish every proposal received `replayTimes` times under new envelope sequences. */
        replayGossip: z.boolean().default(false),
        replayTimes: z.number().int().min(1).max(100).default(3),
        /** Answer blocks_by_range with poisoned certificates and wrong heights. */
        poisonCatchUp: z.boolean().default(false),
        /** Claim head 2^62 in the status handshake. */
        hugeHead: z.boolean().default(false),
      })
      .strict()
      .optional(),
    log: z
      .object({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace"]).default("info"),
        format: z.enum(["json", "pretty", "auto"]).default("auto"),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type NodeConfig = z.infer<typeof nodeConfigSchema>;
export type ByzantineOptions = NonNullable<NodeConfig["byzantine"]>;

export class ConfigError extends DseqError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(NodeErrorCode.ConfigInvalid, message, { details });
    this.name = "ConfigError";
  }
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.length > 0 ? issue.path.map(String).join(".") : "(top level)";
  if (issue.code === "unrecognized_keys") {
    const where = issue.path.length > 0 ? `${field}: ` : "";
    return `${where}unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
  }
  return `${field}: ${issue.message}`;
}

/** Validates an already parsed config object; throws a ConfigError naming every bad field. */
export function parseNodeConfig(raw: unknown, baseDir: string = process.cwd()): NodeConfig {
  const result = nodeConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map(describeIssue);
    throw new ConfigError(`invalid config:\n  ${lines.join("\n  ")}`, { issues: lines });
  }
  const cfg = result.data;
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  cfg.dataDir = abs(cfg.dataDir);
  cfg.chain.genesis = abs(cfg.chain.genesis);
  if (cfg.key.keystore) cfg.key.keystore = abs(cfg.key.keystore);
  if (cfg.key.passwordFile) cfg.key.passwordFile = abs(cfg.key.passwordFile);
  if (cfg.batches) {
    if (!cfg.l1)
      throw new ConfigError(
        "invalid config:\n  batches: needs the l1 section (the inbox and an L1 endpoint)",
      );
    if (!cfg.l1.endpoints.some((e) => /^https?:\/\//.test(e)))
      throw new ConfigError("invalid config:\n  batches: needs an http(s):// endpoint in l1.endpoints");
    if (cfg.mode === "follower")
      throw new ConfigError("invalid config:\n  batches: a follower neither signs nor posts batches");
    if (cfg.batches.submit) cfg.batches.submit.l1Keystore = abs(cfg.batches.submit.l1Keystore);
  }
  if (cfg.rewards) {
    if (!cfg.batches)
      throw new ConfigError(
        "invalid config:\n  rewards: needs the batches section (the TSS signs checkpoints)",
      );
    cfg.rewards.l1Keystore = abs(cfg.rewards.l1Keystore);
  }
  return cfg;
}

/** Reads, parses (JSON or TOML by extension) and validates a config file. */
export function loadNodeConfig(path: string): NodeConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(
      `cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  let raw: unknown;
  const ext = extname(path).toLowerCase();
  try {
    raw = ext === ".toml" ? parseToml(text) : JSON.parse(text);
  } catch (err) {
    throw new ConfigError(
      `config file ${path} is not valid ${ext === ".toml" ? "TOML" : "JSON"}: ${(err as Error).message}`,
    );
  }
  return parseNodeConfig(raw, dirname(resolve(path)));
}
