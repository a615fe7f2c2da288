import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { createLogger, createMetrics, DseqError, hexToBytes, isHex } from "@dseq/common";
import { secp256k1 } from "@dseq/crypto";
import { sequencerKeyToPeerId } from "@dseq/p2p";
import { writeFileAtomic } from "../atomicFile.ts";
import { loadChainSpec } from "../chainSpec.ts";
import { loadNodeConfig } from "../config.ts";
import { NodeErrorCode } from "../errors.ts";
import { keystorePath, readKeyFile, writeKeyFile } from "../keyfile.ts";
import { keyInfo, SCRYPT_LIGHT, SCRYPT_STANDARD } from "../keystore.ts";
import { DseqNode } from "../node.ts";
import { cmdDerive, DERIVE_USAGE } from "./derive.ts";
import { defaultDevnetInitOptions, devnetInit } from "./devnetInit.ts";
import { readPassword } from "./password.ts";
import { fetchStatus, formatStatus } from "./status.ts";

const USAGE = `dseq: decentralized sequencer node

Usage:
  dseq init [--datadir DIR] [--password-file FILE] [--light-kdf] [--json]
      Create the data dir and a new sequencer key (keystore v3, scrypt).
  dseq key show [--datadir DIR] [--password-file FILE] [--json]
      Print the address, public key (64 bytes, no 04 prefix) and libp2p peer id of the node's key.
  dseq key import --private-key-file FILE [--datadir DIR] [--password-file FILE] [--light-kdf]
      Encrypt an existing private key (hex in FILE) into the data dir.
  dseq key export --out FILE [--datadir DIR] [--password-file FILE]
      Write the decrypted private key (hex) to FILE, mode 0600. FILE must not exist.
  dseq start --config FILE
      Run the node (validator or follower, as the config says) until SIGINT/SIGTERM.
${DERIVE_USAGE}
  dseq status [--admin URL | --config FILE] [--probe ready|live] [--json] [--quiet]
      Ask a running node's admin port: sync state (synced, catching-up, stuck, stalled,
      isolated), head and progress, probes, sequencer, own votes. Exit 0 when the probe
      (default ready) passes, 1 if not.
  dseq devnet-init --out DIR [--validators 4] [--subnet 172.28.0] [--first-host 11]
      Write keys (devnet only), chain spec and node configs for the compose devnet.

The password comes from --password-file, then $DSEQ_KEY_PASSWORD, then a prompt.
Default data dir: ./dseq-data (or $DSEQ_DATADIR).
`;

class UsageError extends DseqError {
  constructor(message: string) {
    super(NodeErrorCode.CliUsage, message);
    this.name = "UsageError";
  }
}

const commonOptions = {
  datadir: { type: "string" },
  "password-file": { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

function parse<
  T extends Record<string, { type: "string" | "boolean"; short?: string; default?: string | boolean }>,
>(args: string[], extra: T) {
  try {
    return parseArgs({
      args,
      options: { ...commonOptions, ...extra },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function dataDirOf(v: string | undefined): string {
  return resolve(v ?? process.env.DSEQ_DATADIR ?? "dseq-data");
}

function print(json: boolean, obj: Record<string, string>): void {
  if (json) {
    console.log(JSON.stringify(obj));
    return;
  }
  const w = Math.max(...Object.keys(obj).map((k) => k.length));
  for (const [k, v] of Object.entries(obj)) console.log(`${k.padEnd(w)}  ${v}`);
}

async function cmdInit(args: string[]): Promise<void> {
  const { values } = parse(args, { "light-kdf": { type: "boolean", default: false } });
  if (values.help) return void console.log(USAGE);
  const dataDir = dataDirOf(values.datadir);
  const path = keystorePath(dataDir);
  if (existsSync(path)) {
    throw new DseqError(NodeErrorCode.KeyExists, `a key already exists at ${path}; refusing to overwrite it`);
  }
  const password = await readPassword({ passwordFile: values["password-file"], confirm: true });
  let priv: Uint8Array;
  do priv = new Uint8Array(randomBytes(32));
  while (!secp256k1.isValidPrivateKey(priv));
  await writeKeyFile(path, priv, password, { scrypt: values["light-kdf"] ? SCRYPT_LIGHT : SCRYPT_STANDARD });
  const info = keyInfo(priv);
  priv.fill(0);
  print(values.json, { address: info.address, keystore: path, publicKey: info.publicKey.slice(2), dataDir });
}

async function cmdKey(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === "show") {
    const { values } = parse(rest, {});
    const path = keystorePath(dataDirOf(values.datadir));
    const priv = await readKeyFile(path, await readPassword({ passwordFile: values["password-file"] }));
    const info = keyInfo(priv);
    // The libp2p peer id other nodes put in their bootstrap multiaddrs (/p2p/<peer id>).
    const peerId = (await sequencerKeyToPeerId(priv)).toString();
    priv.fill(0);
    return print(values.json, {
      address: info.address,
      keystore: path,
      publicKey: info.publicKey.slice(2),
      peerId,
    });
  }
  if (sub === "import") {
    const { values } = parse(rest, {
      "private-key-file": { type: "string" },
      "light-kdf": { type: "boolean", default: false },
    });
    const file = values["private-key-file"];
    if (!file) throw new UsageError("key import needs --private-key-file FILE");
    let text: string;
    try {
      text = readFileSync(file, "utf8").trim();
    } catch (err) {
      throw new DseqError(
        NodeErrorCode.CliKeyFile,
        `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    const hex = text.startsWith("0x") ? text : `0x${text}`;
    if (!isHex(hex) || hex.length !== 66)
      throw new DseqError(NodeErrorCode.CliBadKey, `${file} does not hold a 32-byte hex private key`);
    const priv = hexToBytes(hex);
    if (!secp256k1.isValidPrivateKey(priv))
      throw new DseqError(NodeErrorCode.CliBadKey, `${file} is not a valid secp256k1 private key`);
    const path = keystorePath(dataDirOf(values.datadir));
    if (existsSync(path))
      throw new DseqError(
        NodeErrorCode.KeyExists,
        `a key already exists at ${path}; refusing to overwrite it`,
      );
    const password = await readPassword({ passwordFile: values["password-file"], confirm: true });
    await writeKeyFile(path, priv, password, {
      scrypt: values["light-kdf"] ? SCRYPT_LIGHT : SCRYPT_STANDARD,
    });
    const info = keyInfo(priv);
    priv.fill(0);
    return print(values.json, { address: info.address, keystore: path, publicKey: info.publicKey.slice(2) });
  }
  if (sub === "export") {
    const { values } = parse(rest, { out: { type: "string" } });
    const out = values.out;
    if (!out) throw new UsageError("key export needs --out FILE (the key is never printed)");
    if (existsSync(out))
      throw new DseqError(NodeErrorCode.CliExists, `${out} already exists; refusing to overwrite it`);
    const path = keystorePath(dataDirOf(values.datadir));
    const priv = await readKeyFile(path, await readPassword({ passwordFile: values["password-file"] }));
    writeFileAtomic(resolve(out), `${Buffer.from(priv).toString("hex")}\n`, { mode: 0o600 });
    const info = keyInfo(priv);
    priv.fill(0);
    return print(values.json, { address: info.address, exported: resolve(out) });
  }
  throw new UsageError(`unknown key subcommand ${sub ?? "(none)"}: use show, import or export`);
}

async function cmdStatus(args: string[]): Promise<number> {
  const { values } = parse(args, {
    admin: { type: "string" },
    config: { type: "string" },
    probe: { type: "string", default: "ready" },
    quiet: { type: "boolean", default: false },
  });
  if (values.probe !== "ready" && values.probe !== "live") throw new UsageError("--probe is ready or live");
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let url = values.admin ?? process.env.DSEQ_ADMIN_URL;
  if (!url && values.config) {
    const c = loadNodeConfig(values.config);
    const host = c.admin.host === "0.0.0.0" || c.admin.host === "::" ? "127.0.0.1" : c.admin.host;
    url = `http://${host.includes(":") ? `[${host}]` : host}:${c.admin.port}`;
  }
  url ??= "http://127.0.0.1:9545";
  let s: Awaited<ReturnType<typeof fetchStatus>>;
  try {
    s = await fetchStatus(url);
  } catch (err) {
    throw new DseqError(
      NodeErrorCode.CliStatus,
      `cannot reach the admin port at ${url}: ${(err as Error).message}`,
    );
  }
  if (!values.quiet) console.log(values.json ? JSON.stringify(s) : formatStatus(s));
  return (values.probe === "live" ? s.probes.live : s.probes.ready) ? 0 : 1;
}

async function cmdDevnetInit(args: string[]): Promise<void> {
  const { values } = parse(args, {
    out: { type: "string" },
    validators: { type: "string" },
    subnet: { type: "string" },
    "first-host": { type: "string" },
  });
  if (values.help) return void console.log(USAGE);
  if (!values.out) throw new UsageError("devnet-init needs --out DIR");
  const d = defaultDevnetInitOptions;
  const int = (v: string | undefined, dflt: number, name: string): number => {
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number`);
    return Number(v);
  };
  const r = await devnetInit({
    ...d,
    out: resolve(values.out),
    validators: int(values.validators, d.validators, "validators"),
    subnet: values.subnet ?? d.subnet,
    firstHost: int(values["first-host"], d.firstHost, "first-host"),
  });
  print(values.json, {
    chainSpec: `${r.chainSpec}${r.kept ? " (kept: it existed)" : ""}`,
    configs: r.nodes.join(" "),
  });
}

async function cmdStart(args: string[]): Promise<number> {
  let values: { config?: string | undefined; help?: boolean };
  try {
    values = parseArgs({
      args,
      options: { config: { type: "string" }, help: { type: "boolean", short: "h", default: false } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.config) throw new UsageError("start needs --config FILE");
  const config = loadNodeConfig(values.config);
  const spec = loadChainSpec(config.chain.genesis);
  const keyPath = config.key.keystore ?? keystorePath(config.dataDir);
  const password = await readPassword({ passwordFile: config.key.passwordFile });
  const privateKey = await readKeyFile(keyPath, password);
  const logger = createLogger({ level: config.log.level, format: config.log.format });
  const metrics = createMetrics({ defaultMetrics: true });
  // The password goes to the node only when it needs it again (TSS shares, the L1 batch keystore).
  const node = new DseqNode(config, spec, {
    logger,
    metrics,
    privateKey,
    ...(config.batches ? { password } : {}),
  });
  privateKey.fill(0);
  let signals = 0;
  const done = new Promise<number>((resolve) => {
    const onSignal = (sig: string): void => {
      signals++;
      if (signals > 1) {
        logger.warn("second signal: exiting without a clean shutdown", { signal: sig });
        process.exit(130);
      }
      logger.info("shutting down", { signal: sig });
      node.stop().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error("shutdown failed", { err });
          resolve(1);
        },
      );
    };
    process.on("SIGINT", () => onSignal("SIGINT"));
    process.on("SIGTERM", () => onSignal("SIGTERM"));
  });
  try {
    await node.start();
  } catch (err) {
    await node.stop().catch(() => undefined);
    throw err;
  }
  return done;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    }
    if (cmd === "init") await cmdInit(rest);
    else if (cmd === "key") await cmdKey(rest);
    else if (cmd === "start") return await cmdStart(rest);
    else if (cmd === "derive") return await cmdDerive(rest);
    else if (cmd === "status") return await cmdStatus(rest);
    else if (cmd === "devnet-init") await cmdDevnetInit(rest);
    else throw new UsageError(`unknown command ${cmd}`);
    return 0;
  } catch (err) {
    // derive.ts has its own usage error class; both carry CliUsage.
    if (err instanceof UsageError || (err instanceof DseqError && err.code === NodeErrorCode.CliUsage)) {
      console.error(`error: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof DseqError) {
      console.error(`error: ${err.message}`);
      return 1;
    }
    console.error("error:", err);
    return 1;
  }
}
