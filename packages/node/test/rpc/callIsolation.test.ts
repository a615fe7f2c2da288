/**
 * The RPC's EVM in worker threads (ADR 0130) and the next-block call context (ADR 0131), end to
 * end: viem against the server on the real l2-exec chain and txpool, with calls going through
 * the node's `CallPool`. Blocks are mined on demand, each stamped parent + 2 s as the
 * proposer stamps them.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, type Hex } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { createRpcServer, type RpcServer } from "@dseq/rpc";
import {
  type Abi,
  createPublicClient,
  createWalletClient,
  decodeFunctionResult,
  defineChain,
  encodeFunctionData,
  http,
  type PublicClient,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallPool } from "../../src/rpc/callPool.ts";
import { chainReader } from "../../src/rpcBackend.ts";
import { type L2TestBackend, openL2Backend } from "./helpers/l2Backend.ts";
import { compileSolidity } from "./helpers/solidity.ts";
import { TIME_SENSITIVE_SOURCE } from "./helpers/timeSensitive.ts";

const CHAIN_ID = 902;
const KEY = bytesToHex(keccak256(new TextEncoder().encode("dseq call isolation test key")));
const account = privateKeyToAccount(KEY);
const EVM_TIMEOUT_MS = 1000;

type RpcReply = { result?: unknown; error?: { code: number; message: string; data?: unknown } };

describe("RPC calls off the consensus thread, in the next block's context", () => {
  let dataDir: string;
  let l2: L2TestBackend;
  let pool: CallPool;
  let server: RpcServer;
  let url: string;
  let pub: PublicClient;
  let wallet: WalletClient;
  let abi: Abi;
  let target: Hex;

  const rpc = async (method: string, params: unknown[]): Promise<RpcReply> => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    return (await res.json()) as RpcReply;
  };
  const data = (functionName: string): Hex => encodeFunctionData({ abi, functionName, args: [] });

  /** Sends `fn` with `gas` and mines the block it lands in. */
  const send = async (fn: string, gas?: bigint): Promise<"success" | "reverted"> => {
    const hash = await wallet.sendTransaction({
      account,
      chain: null,
      to: target,
      data: data(fn),
      ...(gas === undefined ? {} : { gas }),
    });
    await l2.mine();
    return (await pub.getTransactionReceipt({ hash })).status;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "rpc-isolation-"));
    l2 = await openL2Backend({
      dataDir,
      chainConfig: {
        chainId: CHAIN_ID,
        timestamp: BigInt(Math.floor(Date.now() / 1000)),
        alloc: { [account.address.toLowerCase()]: { balance: 1000n * 10n ** 18n } },
      },
    });
    pool = new CallPool(
      { workers: 1, maxQueued: 2, evmTimeoutMs: EVM_TIMEOUT_MS },
      { source: await l2.chain.callSource(), logger: (await import("@dseq/common")).createNoopLogger() },
    );
    await pool.start();
    server = createRpcServer(
      { http: { host: "127.0.0.1", port: 0 }, ws: false },
      { backend: { ...l2.backend, chain: chainReader(l2.chain, { callPool: pool, blockTimeMs: 2000 }) } },
    );
    await server.start();
    url = server.httpUrl as string;
    const chain = defineChain({
      id: CHAIN_ID,
      name: "dseq-test",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [url] } },
    });
    pub = createPublicClient({ chain, transport: http(url) }) as PublicClient;
    wallet = createWalletClient({ account, chain, transport: http(url) });
    const c = compileSolidity(TIME_SENSITIVE_SOURCE, "TimeSensitive");
    abi = c.abi as Abi;
    const hash = await wallet.deployContract({ abi, bytecode: c.bytecode, account, chain });
    await l2.mine();
    target = (await pub.getTransactionReceipt({ hash })).contractAddress as Hex;
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await pool?.stop();
    await l2?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("eth_call with pending runs as block head + 1, stamped parent + block time, with the child's base fee", async () => {
    const head = await pub.getBlock({ blockTag: "latest" });
    const reply = await rpc("eth_call", [{ to: target, data: data("env") }, "pending"]);
    const [number, time, , baseFee] = decodeFunctionResult({
      abi,
      functionName: "env",
      data: reply.result as Hex,
    }) as [bigint, bigint, Hex, bigint];
    expect(number).toBe(head.number + 1n);
    expect(time).toBe(head.timestamp + 2n);
    // No gas price given: geth's eth_call zeroes the base fee it runs with.
    expect(baseFee).toBe(0n);
    const latest = await rpc("eth_call", [{ to: target, data: data("env") }, "latest"]);
    const [n2, t2] = decodeFunctionResult({ abi, functionName: "env", data: latest.result as Hex }) as [
      bigint,
      bigint,
    ];
    expect([n2, t2]).toEqual([head.number, head.timestamp]);
  });

  it("block overrides set the number, time and fee recipient the call sees; unknown fields are refused", async () => {
    const reply = await rpc("eth_call", [
      { to: target, data: data("env") },
      "latest",
      null,
      { number: "0x1234", time: "0x5678", feeRecipient: "0x00000000000000000000000000000000000000fe" },
    ]);
    const [number, time, coinbase] = decodeFunctionResult({
      abi,
      functionName: "env",
      data: reply.result as Hex,
    }) as [bigint, bigint, Hex];
    expect([number, time, coinbase.toLowerCase()]).toEqual([
      0x1234n,
      0x5678n,
      "0x00000000000000000000000000000000000000fe",
    ]);
    const bad = await rpc("eth_call", [
      { to: target, data: data("env") },
      "latest",
      null,
      { difficulty: "0x1" },
    ]);
    expect(bad.error?.code).toBe(-32602);
  });

  it("an estimate of a price-accumulator swap is enough for the block the transaction lands in", async () => {
    expect(await send("swap")).toBe("success"); // the accumulator now holds this block's timestamp
    const head = await pub.getBlockNumber();
    // In the latest block's own context the swap is cheap (same timestamp): too little for the next.
    const sameBlock = BigInt(
      (
        await rpc("eth_estimateGas", [
          { from: account.address, to: target, data: data("swap") },
          `0x${head.toString(16)}`,
        ])
      ).result as string,
    );
    const estimate = await pub.estimateGas({ account: account.address, to: target, data: data("swap") });
    expect(estimate).toBeGreaterThan(sameBlock + 20_000n);
    expect(await send("swap", estimate)).toBe("success");
    // And the same-block estimate would have failed: what the issue saw.
    expect(await send("swap", sameBlock)).toBe("reverted");
  });

  it("estimates of block.number and block.timestamp branches hold in the next block", async () => {
    for (const fn of ["byNumber", "byTime", "byNumber", "byTime", "swap"]) {
      const estimate = await pub.estimateGas({ account: account.address, to: target, data: data(fn) });
      expect(await send(fn, estimate), fn).toBe("success");
    }
  });

  it("a tight loop at the gas cap is stopped at the EVM timeout while this thread stays free", async () => {
    let maxLagMs = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      maxLagMs = Math.max(maxLagMs, now - last - 10);
      last = now;
    }, 10);
    const started = performance.now();
    const reply = await rpc("eth_call", [{ to: target, data: data("spin"), gas: "0x2faf080" }, "latest"]);
    const took = performance.now() - started;
    clearInterval(tick);
    expect(reply.error?.code).toBe(-32000);
    expect(reply.error?.message).toBe("execution aborted (timeout = 1s)");
    expect(took).toBeGreaterThanOrEqual(EVM_TIMEOUT_MS - 50);
    expect(took).toBeLessThan(EVM_TIMEOUT_MS + 3000);
    // The loop ran in the worker: the event loop here never waited on it.
    expect(maxLagMs).toBeLessThan(200);
    // A fresh worker took the killed one's place.
    const after = await rpc("eth_call", [{ to: target, data: data("price") }, "latest"]);
    expect(after.error).toBeUndefined();
  }, 20_000);

  it("beyond the workers and the queue, calls are refused at once with -32005", async () => {
    const spin = () => rpc("eth_call", [{ to: target, data: data("spin"), gas: "0x2faf080" }, "latest"]);
    const first = [spin(), spin(), spin()]; // 1 running + 2 queued
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    const refused = await spin();
    expect(performance.now() - started).toBeLessThan(500);
    expect(refused.error?.code).toBe(-32005);
    const done = await Promise.all(first);
    expect(done.map((r) => r.error?.message)).toEqual(Array(3).fill("execution aborted (timeout = 1s)"));
  }, 20_000);

  it("eth_sendRawTransactionSync answers with the receipt of the committed block, or code 4 past its timeout", async () => {
    const nonce = await pub.getTransactionCount({ address: account.address, blockTag: "pending" });
    const sign = (n: number) =>
      wallet.signTransaction({
        account,
        chain: null,
        to: target,
        data: data("byTime"),
        gas: 200_000n,
        nonce: n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 1n,
        chainId: CHAIN_ID,
      });
    const raw = await sign(nonce);
    const pending = rpc("eth_sendRawTransactionSync", [raw, "0x1388"]);
    await new Promise((r) => setTimeout(r, 200));
    await l2.mine();
    const reply = await pending;
    const receipt = reply.result as { transactionHash: Hex; status: Hex; blockNumber: Hex };
    expect(receipt.status).toBe("0x1");
    expect(BigInt(receipt.blockNumber)).toBe(await pub.getBlockNumber());
    expect(receipt.transactionHash).toBe(bytesToHex(keccak256(Buffer.from(raw.slice(2), "hex"))));

    const raw2 = await sign(nonce + 1);
    const started = performance.now();
    const timedOut = await rpc("eth_sendRawTransactionSync", [raw2, 300]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(timedOut.error?.code).toBe(4);
    expect(timedOut.error?.data).toBe(bytesToHex(keccak256(Buffer.from(raw2.slice(2), "hex"))));
    await l2.mine();
  });
});
