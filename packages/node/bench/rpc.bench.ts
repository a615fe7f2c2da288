/**
 * `pnpm bench rpc`: eth_call (ERC-20 balanceOf), debug_traceTransaction (callTracer on an ERC-20
 * transfer), eth_getBlockByNumber and eth_sendRawTransaction throughput over HTTP with 32
 * concurrent keep-alive connections (autocannon), against the server running in its own
 * process on the real l2-exec chain and txpool, calls and traces in the node's CallPool worker
 * threads. Each figure is the median of 3 runs; `cores` and `rpc_evm_workers` say the machine.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { createRpcServer } from "@dseq/rpc";
import autocannon from "autocannon";
import {
  type Abi,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  http,
} from "viem";
import { chainReader } from "../src/rpcBackend.ts";
import { openL2Backend } from "../test/rpc/helpers/l2Backend.ts";
import { compileSolidity } from "../test/rpc/helpers/solidity.ts";
import { TIME_SENSITIVE_SOURCE } from "../test/rpc/helpers/timeSensitive.ts";
import { BENCH_CHAIN_ID, benchAccount, SENDERS } from "./benchChain.ts";

export const description =
  "JSON-RPC over HTTP, 32 connections (autocannon), server in its own process on l2-exec + txpool, EVM in CallPool workers; median of 3 runs";

const CONNECTIONS = 32;
const RUNS = 3;
const SECONDS = 3;
const TXS_PER_SENDER = 30;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

type Load = { body?: string; bodies?: string[]; seconds?: number };

/** Runs one load; returns successful JSON-RPC replies per second. */
async function load(url: string, l: Load): Promise<number> {
  let failed = 0;
  let firstFailure = "";
  const onResponse = (status: number, body: string): void => {
    if (status !== 200 || body.includes('"error"')) {
      failed++;
      if (firstFailure === "") firstFailure = `${status} ${body.slice(0, 200)}`;
    }
  };
  let next = 0;
  const bodies = l.bodies;
  // autocannon reports `duration` in whole seconds; a fixed request count needs the wall clock.
  const started = performance.now();
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    method: "POST",
    headers: { "content-type": "application/json" },
    ...(bodies === undefined ? { duration: l.seconds ?? SECONDS } : { amount: bodies.length }),
    requests: [
      bodies === undefined
        ? { method: "POST", body: l.body as string, onResponse }
        : {
            method: "POST",
            setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] as string }),
            onResponse,
          },
    ],
  });
  const ok = result.requests.total - failed;
  if (failed > 0)
    throw new Error(`${failed} of ${result.requests.total} requests failed, first: ${firstFailure}`);
  return ok / ((performance.now() - started) / 1000);
}

/**
 * estimate_exact_ratio: a corpus of time-sensitive calls (a price-accumulator swap, a
 * block.number and a block.timestamp branch; 5 rounds), each estimated with eth_estimateGas
 * and then sent with exactly that gas in the next block: the share that succeeds.
 */
async function estimateExactRatio(): Promise<number> {
  const dataDir = await mkdtemp(join(tmpdir(), "rpc-bench-estimate-"));
  const account = benchAccount(0);
  const l2 = await openL2Backend({
    dataDir,
    chainConfig: {
      chainId: BENCH_CHAIN_ID,
      timestamp: BigInt(Math.floor(Date.now() / 1000)),
      alloc: { [account.address.toLowerCase()]: { balance: 10n ** 21n } },
    },
  });
  const server = createRpcServer(
    { http: { host: "127.0.0.1", port: 0 }, ws: false },
    { backend: { ...l2.backend, chain: chainReader(l2.chain, { blockTimeMs: 2000 }) } },
  );
  try {
    await server.start();
    const url = server.httpUrl as string;
    const chain = defineChain({
      id: BENCH_CHAIN_ID,
      name: "dseq-bench",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [url] } },
    });
    const pub = createPublicClient({ chain, transport: http(url) });
    const wallet = createWalletClient({ account, chain, transport: http(url) });
    const c = compileSolidity(TIME_SENSITIVE_SOURCE, "TimeSensitive");
    const abi = c.abi as Abi;
    const deploy = await wallet.deployContract({ abi, bytecode: c.bytecode, account, chain });
    await l2.mine();
    const to = (await pub.getTransactionReceipt({ hash: deploy })).contractAddress as `0x${string}`;
    let ok = 0;
    let total = 0;
    for (let round = 0; round < 5; round++) {
      for (const functionName of ["swap", "byNumber", "byTime"]) {
        const data = encodeFunctionData({ abi, functionName, args: [] });
        const gas = await pub.estimateGas({ account: account.address, to, data });
        const hash = await wallet.sendTransaction({ account, chain, to, data, gas });
        await l2.mine();
        total++;
        if ((await pub.getTransactionReceipt({ hash })).status === "success") ok++;
      }
    }
    return ok / total;
  } finally {
    await server.stop();
    await l2.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/**
 * `rpc_flood_slot_ratio`: blocks made / slots elapsed on a 4-validator network of `dseq start`
 * processes while each validator serves 8 in-flight 50M-gas tight-loop eth_calls for 30 s
 * (packages/devnet/bench/rpcFlood.ts, its own process: it needs the devnet package). Target 0.95.
 */
async function floodSlotRatio(): Promise<{ ratio: number; blocks: number; slots: number; calls: number }> {
  const script = new URL("../../devnet/bench/rpcFlood.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`rpc flood exited with ${code}`)));
    });
    return JSON.parse(line) as { ratio: number; blocks: number; slots: number; calls: number };
  } finally {
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null) resolve();
      else child.once("exit", () => resolve());
    });
  }
}

export default async function run(): Promise<Record<string, number>> {
  const flood = await floodSlotRatio();
  const estimateExact = await estimateExactRatio();
  const child = spawn(process.execPath, [new URL("./rpcServer.ts", import.meta.url).pathname], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once("line", resolve);
      child.once("exit", (code) => reject(new Error(`bench server exited with ${code}`)));
    });
    const { url, block, token, holder, transfer, workers } = JSON.parse(line) as {
      url: string;
      block: number;
      token: string;
      holder: string;
      transfer: string;
      workers: number;
    };

    // Pre-sign the raw transactions: SENDERS x TXS_PER_SENDER, split into RUNS batches.
    const signed: { nonce: number; body: string }[][] = Array.from({ length: RUNS }, () => []);
    const perRun = TXS_PER_SENDER / RUNS;
    for (let s = 0; s < SENDERS; s++) {
      const account = benchAccount(s);
      for (let n = 0; n < TXS_PER_SENDER; n++) {
        const raw = await account.signTransaction({
          chainId: BENCH_CHAIN_ID,
          type: "eip1559",
          nonce: n,
          to: "0x000000000000000000000000000000000000beef",
          value: 1n,
          gas: 21_000n,
          maxFeePerGas: 10n ** 10n,
          maxPriorityFeePerGas: 1n,
        });
        const run = Math.min(RUNS - 1, Math.floor(n / Math.ceil(perRun)));
        signed[run]?.push({
          nonce: n,
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_sendRawTransaction", params: [raw] }),
        });
      }
    }
    // Within a run, go nonce by nonce across senders so each sender's nonces arrive in order
    // on most connections (out-of-order ones are queued by the pool, still a success).
    const batches = signed.map((b) => b.sort((x, y) => x.nonce - y.nonce).map((x) => x.body));

    const call = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "eth_call",
      // balanceOf(holder) on the ERC-20, through the node's backend (CallPool workers).
      params: [{ to: token, data: `0x70a08231${holder.slice(2).padStart(64, "0")}` }, "latest"],
    });
    const trace = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "debug_traceTransaction",
      params: [transfer, { tracer: "callTracer" }],
    });
    const getBlock = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "eth_getBlockByNumber",
      params: [`0x${block.toString(16)}`, false],
    });
    await load(url, { body: call, seconds: 1 }); // warm-up
    await load(url, { body: trace, seconds: 1 });
    const calls: number[] = [];
    const blocks: number[] = [];
    const sends: number[] = [];
    const traces: number[] = [];
    for (let i = 0; i < RUNS; i++) calls.push(await load(url, { body: call }));
    for (let i = 0; i < RUNS; i++) traces.push(await load(url, { body: trace }));
    for (let i = 0; i < RUNS; i++) blocks.push(await load(url, { body: getBlock }));
    for (let i = 0; i < RUNS; i++) sends.push(await load(url, { bodies: batches[i] as string[] }));
    return {
      eth_call_per_s: Math.round(median(calls)),
      trace_tx_per_s: Math.round(median(traces)),
      cores: availableParallelism(),
      rpc_evm_workers: workers,
      estimate_exact_ratio: estimateExact,
      get_block_per_s: Math.round(median(blocks)),
      send_raw_tx_per_s: Math.round(median(sends)),
      rpc_flood_slot_ratio: Math.round(flood.ratio * 1000) / 1000,
      rpc_flood_blocks: flood.blocks,
      rpc_flood_slots: flood.slots,
      rpc_flood_calls: flood.calls,
    };
  } finally {
    child.kill("SIGTERM");
  }
}
