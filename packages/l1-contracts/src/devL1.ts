import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Logger } from "@dseq/common";
import { type Address, bytesToHex, type Hex } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { L1ContractsError, L1ContractsErrorCode } from "./errors.ts";

/** Hardhat's well-known test mnemonic: the accounts every Ethereum developer recognises. */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

export type DevL1Options = {
  /** TCP port on 127.0.0.1; 0 or undefined picks a free one. */
  port?: number;
  /** How many funded accounts to create from DEV_MNEMONIC (default 10). */
  accounts?: number;
  /** Balance of each account in wei (default 10,000 ETH). */
  balanceWei?: bigint;
  /** More addresses to fund with balanceWei (e.g. operator keys made elsewhere). */
  fund?: readonly Address[];
  /** L1 chain id (default 31337). */
  chainId?: number;
  /** EDR hardfork (default "prague": EIP-4844 blobs and EIP-7623 calldata pricing). */
  hardfork?: string;
  /** Seconds between blocks; undefined mines one block per transaction (automine). */
  blockTimeSeconds?: number;
  /** How long to wait for the node to answer (default 60 s). */
  readyTimeoutMs?: number;
  logger?: Logger;
};

export type DevL1Account = { address: Address; privateKey: Hex };

export type DevL1 = {
  rpcUrl: string;
  chainId: number;
  accounts: DevL1Account[];
  pid: number;
  /** Holds the generated Hardhat config; removed by stop(). */
  workDir: string;
  /** Stops the node and removes its working directory. Safe to call twice. */
  stop(): Promise<void>;
};

const require = createRequire(import.meta.url);
const pkgRoot = resolve(import.meta.dirname, "..");

/** The funded accounts `startDevL1({accounts: n})` creates, without starting anything. */
export function devL1Accounts(n = 10): DevL1Account[] {
  const out: DevL1Account[] = [];
  for (let i = 0; i < n; i++) {
    const acct = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: i });
    const key = acct.getHdKey().privateKey;
    if (!key) throw new Error("no private key derived");
    out.push({ address: acct.address, privateKey: bytesToHex(key) });
  }
  return out;
}

/**
 * Starts Hardhat's EDR (`hardhat node`, Hardhat 3) as a child process on 127.0.0.1, waits until it
 * answers JSON-RPC, and returns its URL and funded accounts. Hardhat 3 only runs a config that sits
 * inside a project with Hardhat installed, so the config goes to a fresh directory under this
 * package's `.devl1/`, removed by stop().
 */
export async function startDevL1(opts: DevL1Options = {}): Promise<DevL1> {
  const accounts = devL1Accounts(opts.accounts ?? 10);
  const balance = opts.balanceWei ?? 10_000n * 10n ** 18n;
  const chainId = opts.chainId ?? 31337;
  const base = join(pkgRoot, ".devl1");
  mkdirSync(base, { recursive: true });
  const workDir = mkdtempSync(join(base, "node-"));
  const config = {
    paths: { artifacts: join(workDir, "artifacts"), cache: join(workDir, "cache") },
    networks: {
      node: {
        type: "edr-simulated",
        chainId,
        hardfork: opts.hardfork ?? "prague",
        accounts: accounts.map((a) => ({ privateKey: a.privateKey, balance: balance.toString() })),
        ...(opts.blockTimeSeconds === undefined
          ? {}
          : { mining: { auto: false, interval: opts.blockTimeSeconds * 1000 } }),
      },
    },
  };
  const configFile = join(workDir, "hardhat.config.js");
  writeFileSync(configFile, `export default ${JSON.stringify(config, null, 2)};\n`);
  const cli = join(dirname(require.resolve("hardhat/package.json")), "dist", "src", "cli.js");
  const watchdog = join(import.meta.dirname, "parentWatchdog.ts");
  const args = [
    "--import",
    pathToFileURL(watchdog).href,
    cli,
    "--config",
    configFile,
    "node",
    "--hostname",
    "127.0.0.1",
    "--port",
    String(opts.port ?? 0),
  ];
  const child = spawn(process.execPath, args, {
    cwd: workDir,
    env: {
      ...process.env,
      HARDHAT_DISABLE_TELEMETRY: "true",
      NO_COLOR: "1",
      FORCE_COLOR: "0",
      DSEQ_DEVL1_PARENT_PID: String(process.pid),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener("exit", killOnExit);
    await killChild(child);
    rmSync(workDir, { recursive: true, force: true });
  };

  try {
    const rpcUrl = await waitForListening(child, opts.readyTimeoutMs ?? 60_000);
    const got = await rpc<Hex>(rpcUrl, "eth_chainId", []);
    if (Number(got) !== chainId) throw new Error(`dev L1 chain id ${Number(got)}, expected ${chainId}`);
    for (const address of opts.fund ?? []) {
      await rpc(rpcUrl, "hardhat_setBalance", [address, `0x${balance.toString(16)}`]);
    }
    opts.logger?.info("dev L1 started", { rpcUrl, chainId, pid: child.pid, accounts: accounts.length });
    return { rpcUrl, chainId, accounts, pid: child.pid ?? -1, workDir, stop };
  } catch (err) {
    await stop();
    throw new L1ContractsError(L1ContractsErrorCode.DevnodeStartFailed, "dev L1 did not start", {
      cause: err,
    });
  }
}

function waitForListening(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(
      () => done(new Error(`no answer after ${timeoutMs} ms: ${err || out}`)),
      timeoutMs,
    );
    const onOut = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /JSON-RPC server at (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m?.[1]) done(undefined, m[1]);
    };
    const onErr = (chunk: Buffer): void => {
      err += chunk.toString();
    };
    const onExit = (code: number | null): void =>
      done(new Error(`hardhat node exited with ${code}: ${err || out}`));
    const done = (e?: Error, url?: string): void => {
      clearTimeout(timer);
      child.stdout?.off("data", onOut);
      child.stderr?.off("data", onErr);
      child.off("exit", onExit);
      // Keep draining the pipes (the node logs every request) so it never blocks on a full buffer.
      child.stdout?.resume();
      child.stderr?.resume();
      if (e) reject(e);
      else resolvePromise(url as string);
    };
    child.stdout?.on("data", onOut);
    child.stderr?.on("data", onErr);
    child.once("exit", onExit);
  });
}

function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const hard = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(hard);
      resolvePromise();
    });
    child.kill("SIGTERM");
  });
}

/** One JSON-RPC call over HTTP; used for dev-node controls viem does not wrap. */
export async function rpc<T = unknown>(rpcUrl: string, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error)
    throw new L1ContractsError(L1ContractsErrorCode.RpcError, `${method}: ${body.error.message}`, {
      details: { method },
    });
  return body.result as T;
}

/** Moves the dev L1's clock forward and mines a block (exit periods in tests). */
export async function increaseTime(rpcUrl: string, seconds: number): Promise<void> {
  await rpc(rpcUrl, "evm_increaseTime", [seconds]);
  await rpc(rpcUrl, "evm_mine", []);
}
