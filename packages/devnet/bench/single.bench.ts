// `pnpm bench single` (issue #22): one dseq validator, the load over JSON-RPC from 32 senders
// (32 concurrent clients, one eth_sendRawTransaction at a time each, nonces in order), the
// same load through Hardhat's EDR node and through anvil in the same run, and raw runTx on
// this machine. Committed = the senders' "latest" nonces moved (the same check for all three).
import { spawn } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Hex } from "@dseq/common";
import { devL1Accounts, startDevL1 } from "@dseq/l1-contracts";
import { startDevnet } from "../src/devnet.ts";
import { rpcBatch, rpcCall } from "../src/jsonRpc.ts";
import { signTransfers } from "../src/load.ts";
import { allocatePorts } from "../src/ports.ts";

export const description =
  "one validator, 6,400 transfers from 32 JSON-RPC senders: committed/s of dseq, Hardhat EDR and anvil in the same run, and the ratio to raw runTx";

const SENDERS = 32;
const PER_SENDER = 200;
const TIMEOUT_MS = 60_000;
/**
 * Transfers a client keeps in flight, and the dseq node's txpool `accountSlots` (default 64,
 * the node's default): with 2 s blocks, 32 senders can commit at most 32 x slots per block,
 * 1,024/s at 64. `DSEQ_BENCH_ACCOUNT_SLOTS=256` lifts that bound to see the node's own (ADR 0164).
 */
const ACCOUNT_SLOTS = accountSlots(process.env.DSEQ_BENCH_ACCOUNT_SLOTS);

export function accountSlots(env: string | undefined): number {
  if (env === undefined || env === "") return 64;
  const n = Number(env);
  if (!Number.isSafeInteger(n) || n < 1 || n > 4096)
    throw new Error(`DSEQ_BENCH_ACCOUNT_SLOTS must be an integer in 1..4096, not ${JSON.stringify(env)}`);
  return n;
}

type Account = { address: Hex; privateKey: Hex };

async function latestNonces(url: string, accounts: Account[], tag: "latest" | "pending"): Promise<number[]> {
  const res = await rpcBatch(
    url,
    accounts.map((a) => ({ method: "eth_getTransactionCount", params: [a.address, tag] })),
    10_000,
  );
  return res.map((r) => {
    if (r.error) throw new Error(`eth_getTransactionCount: ${r.error.message}`);
    return Number(r.result);
  });
}

/** 32 clients send their transfers one request at a time; committed/s from first send to last commit. */
export async function driveLoad(
  url: string,
  accounts: Account[],
  chainId: number,
  /** Automine chains (one transaction per block): count blocks instead of polling nonces. */
  byBlocks = false,
): Promise<{ tps: number; committed: number; failed: number }> {
  const start = await latestNonces(url, accounts, "pending");
  const perSender = accounts.map(
    (a, i) =>
      signTransfers(
        { accounts: [a, accounts[(i + 1) % accounts.length] as Account], chainId },
        [start[i] as number, 0],
        PER_SENDER * 2,
      ).filter((_, k) => k % 2 === 0), // round-robin over 2 accounts: the even ones are this sender's
  );
  let failed = 0;
  // committed so far per sender (the watcher's view); a client keeps at most ACCOUNT_SLOTS of
  // its own pending, the pool's per-account cap (txpool accountSlots, 64): like a wallet
  // waiting for its receipts, not a sender the pool must refuse
  const done = accounts.map(() => 0);
  const t0 = performance.now();
  const clients = perSender.map(async (txs, i) => {
    for (const [k, t] of txs.entries()) {
      while (k - (done[i] as number) >= ACCOUNT_SLOTS && performance.now() - t0 < TIMEOUT_MS) {
        await new Promise((r) => setTimeout(r, 5));
      }
      await rpcCall(url, "eth_sendRawTransaction", [t.raw], 30_000).catch(() => {
        failed++;
      });
    }
  });
  const total = accounts.length * PER_SENDER;
  let committed = 0;
  let lastCommitAt = t0;
  const block0 = byBlocks ? Number(await rpcCall<Hex>(url, "eth_blockNumber")) : 0;
  const watch = (async () => {
    while (performance.now() - t0 < TIMEOUT_MS) {
      const now = byBlocks
        ? await rpcCall<Hex>(url, "eth_blockNumber").then(
            (h) => Number(h) - block0,
            () => undefined,
          )
        : await latestNonces(url, accounts, "latest").catch(() => undefined);
      if (typeof now === "number") {
        // one transfer per block; the clients may run ahead by at most their slots
        for (let i = 0; i < done.length; i++) done[i] = Math.floor(now / done.length);
        if (now > committed) {
          committed = now;
          lastCommitAt = performance.now();
        }
        if (committed >= total - failed) return;
      } else if (now) {
        for (const [i, n] of now.entries()) done[i] = n - (start[i] as number);
        const c = done.reduce((a, b) => a + b, 0);
        if (c > committed) {
          committed = c;
          lastCommitAt = performance.now();
        }
        if (committed >= total - failed) return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await Promise.all(clients);
  await watch;
  return { tps: committed / ((lastCommitAt - t0) / 1000), committed, failed };
}

async function dseqSingle(root: string): Promise<number> {
  const d = await startDevnet({
    dataDir: join(root, "dseq"),
    validators: 1,
    followers: 0,
    loadAccounts: SENDERS,
    control: false,
    patchConfig: (_name, config) => ({
      ...config,
      txpool: { ...(config.txpool as object | undefined), accountSlots: ACCOUNT_SLOTS },
    }),
  });
  try {
    const url = d.nodes[0]?.rpcUrl as string;
    await driveLoad(url, d.loadAccounts.slice(0, SENDERS), d.chainId); // warm-up (JIT)
    const r = await driveLoad(url, d.loadAccounts.slice(0, SENDERS), d.chainId);
    console.log(`  dseq, 1 validator: ${r.committed} committed, ${r.failed} refused, ${r.tps.toFixed(0)}/s`);
    return r.tps;
  } finally {
    await d.stop();
  }
}

async function edr(): Promise<number> {
  const l1 = await startDevL1({ accounts: SENDERS });
  try {
    const accts = devL1Accounts(SENDERS) as Account[];
    await driveLoad(l1.rpcUrl, accts, l1.chainId);
    const r = await driveLoad(l1.rpcUrl, accts, l1.chainId);
    console.log(
      `  Hardhat EDR (automine): ${r.committed} committed, ${r.failed} refused, ${r.tps.toFixed(0)}/s`,
    );
    return r.tps;
  } finally {
    await l1.stop();
  }
}

export async function anvil(): Promise<number> {
  let bin: string;
  try {
    // the platform binary is an optional dependency of @foundry-rs/anvil: resolve from there
    const anvilPkg = createRequire(import.meta.url).resolve("@foundry-rs/anvil/package.json");
    const platform = `@foundry-rs/anvil-${process.platform}-${process.arch === "x64" ? "amd64" : process.arch}`;
    bin = join(
      createRequire(realpathSync(anvilPkg)).resolve(`${platform}/package.json`),
      "..",
      "bin",
      "anvil",
    );
  } catch (err) {
    console.log(
      `  anvil SKIPPED: @foundry-rs/anvil is not installed here (${(err as Error).message.split("\n")[0]})`,
    );
    return Number.NaN;
  }
  const [port] = (await allocatePorts(1)) as [number];
  const child = spawn(
    bin,
    ["--port", String(port), "--accounts", String(SENDERS), "--silent", "--block-time", "2"],
    {
      stdio: "ignore",
    },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      if (
        await rpcCall(url, "eth_chainId", [], 1000).then(
          () => true,
          () => false,
        )
      )
        break;
      if (i > 100) throw new Error("anvil did not answer");
      await new Promise((r) => setTimeout(r, 100));
    }
    const accts = devL1Accounts(SENDERS) as Account[];
    // 2 s blocks like dseq: under automine anvil 1.7.1 stopped mining here after ~790
    // one-transaction blocks with transfers still being sent (seen twice)
    await driveLoad(url, accts, 31337);
    const r = await driveLoad(url, accts, 31337);
    console.log(`  anvil (2 s blocks): ${r.committed} committed, ${r.failed} refused, ${r.tps.toFixed(0)}/s`);
    return r.tps;
  } finally {
    child.kill("SIGKILL");
  }
}

/** Raw runTx of 1,000 pre-recovered transfers on a small genesis, nothing written (the limit). */
async function rawRunTx(root: string): Promise<number> {
  const l2 = join(import.meta.dirname, "../../l2-exec");
  const req = createRequire(join(l2, "package.json"));
  const load = (p: string) => import(pathToFileURL(p).href);
  const { createChain } = await load(join(l2, "src/index.ts"));
  const { openStateView } = await load(join(l2, "src/stateView.ts"));
  const fx = await load(join(l2, "test/fixtures.ts"));
  const { createVM, runTx } = await load(req.resolve("@ethereumjs/vm"));
  const { createBlock } = await load(req.resolve("@ethereumjs/block"));
  const { createLogger } = await import("@dseq/common");
  const senders = fx.testAccounts(1000, "single-bench");
  const chain = await createChain({
    dataDir: join(root, "raw"),
    chainConfig: fx.testChainConfig({ senders, fillers: 1000, gasLimit: 300_000_000n }),
    logger: createLogger({ level: "warn" }),
  });
  try {
    const parent = chain.head();
    const common = parent.common;
    const store = (chain as { state: { store: unknown } }).state.store;
    const rates: number[] = [];
    for (let round = 0; round < 5; round++) {
      const txs = senders.map((s: unknown, i: number) => {
        const tx = chain.decodeTx(fx.transferTx(common, s, 0n, fx.fillerAddress(i), 1n).serialize());
        tx.getSenderAddress();
        return tx;
      });
      const { stateManager } = openStateView(common, store, parent.header.stateRoot);
      const vm = await createVM({ common, stateManager });
      const block = createBlock(
        {
          header: {
            number: parent.header.number + 1n,
            timestamp: parent.header.timestamp + 2n,
            gasLimit: parent.header.gasLimit,
            baseFeePerGas: parent.header.calcNextBaseFee(),
          },
        },
        { common },
      );
      await vm.evm.journal.checkpoint();
      const t0 = performance.now();
      let gas = 0n;
      for (const tx of txs)
        gas += (await runTx(vm, { tx, block, blockGasUsed: gas, skipHardForkValidation: true }))
          .totalGasSpent;
      rates.push(txs.length / ((performance.now() - t0) / 1000));
    }
    rates.sort((a, b) => a - b);
    const median = rates[2] as number;
    console.log(`  raw runTx: ${median.toFixed(0)} transfers/s (median of 5 x 1,000, one core)`);
    return median;
  } finally {
    await chain.close();
  }
}

export default async function run(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), "single-bench-"));
  try {
    const single = await dseqSingle(root);
    const edrTps = await edr();
    const anvilTps = await anvil();
    const raw = await rawRunTx(root);
    const out: Record<string, number> = {
      single_committed_tps: Math.round(single),
      edr_committed_tps: Math.round(edrTps),
      ratio_to_raw: Number((single / raw).toFixed(3)),
      raw_runtx_tps: Math.round(raw),
      account_slots: ACCOUNT_SLOTS,
    };
    if (Number.isNaN(anvilTps)) out.anvil_skipped = 1;
    else out.anvil_committed_tps = Math.round(anvilTps);
    return out;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
