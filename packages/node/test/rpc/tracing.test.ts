/**
 * debug_trace* and trace_* (ADR 0132) end to end: viem against the server on the real l2-exec
 * chain and txpool, traces re-run in the node's `CallPool` worker threads.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, createNoopLogger, type Hex } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { createRpcServer, type RpcServer } from "@dseq/rpc";
import { JsonRpcProvider, Network } from "ethers";
import {
  type Abi,
  createPublicClient,
  createWalletClient,
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

const CHAIN_ID = 903;
const KEY = bytesToHex(keccak256(new TextEncoder().encode("dseq tracing test key")));
const account = privateKeyToAccount(KEY);

type CallFrame = {
  type: string;
  from: string;
  to: string;
  input: string;
  gasUsed: string;
  calls?: unknown[];
};
type FlatTrace = {
  type: string;
  action: { callType: string; from: string; to: string };
  transactionHash: string;
  blockNumber: number;
  transactionPosition: number;
};

describe("tracing in the RPC EVM workers", () => {
  let dataDir: string;
  let l2: L2TestBackend;
  let pool: CallPool;
  let server: RpcServer;
  let pub: PublicClient;
  let wallet: WalletClient;
  let abi: Abi;
  let target: Hex;
  let swapTx: Hex;
  let swapBlock: bigint;

  const raw = (method: string, params: unknown[]) =>
    pub.request({ method, params } as never) as Promise<unknown>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "rpc-tracing-"));
    l2 = await openL2Backend({
      dataDir,
      chainConfig: {
        chainId: CHAIN_ID,
        timestamp: BigInt(Math.floor(Date.now() / 1000)),
        alloc: { [account.address.toLowerCase()]: { balance: 1000n * 10n ** 18n } },
      },
    });
    pool = new CallPool(
      { workers: 1, maxQueued: 4, evmTimeoutMs: 5_000 },
      { source: await l2.chain.callSource(), logger: createNoopLogger() },
    );
    await pool.start();
    server = createRpcServer(
      { http: { host: "127.0.0.1", port: 0 }, ws: false },
      { backend: { ...l2.backend, chain: chainReader(l2.chain, { callPool: pool, blockTimeMs: 2000 }) } },
    );
    await server.start();
    const url = server.httpUrl as string;
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
    const deploy = await wallet.deployContract({ abi, bytecode: c.bytecode, account, chain });
    await l2.mine();
    target = (await pub.getTransactionReceipt({ hash: deploy })).contractAddress as Hex;
    // Two transactions in one block: the traced one runs on the state the first one left.
    const first = await wallet.sendTransaction({
      account,
      chain,
      to: target,
      data: encodeFunctionData({ abi, functionName: "byNumber", args: [] }),
    });
    swapTx = await wallet.sendTransaction({
      account,
      chain,
      to: target,
      data: encodeFunctionData({ abi, functionName: "swap", args: [] }),
    });
    await l2.mine();
    const r1 = await pub.getTransactionReceipt({ hash: first });
    const r2 = await pub.getTransactionReceipt({ hash: swapTx });
    expect(r1.blockNumber).toBe(r2.blockNumber);
    expect(r2.transactionIndex).toBe(1);
    swapBlock = r2.blockNumber;
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await pool?.stop();
    await l2?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("debug_traceTransaction with callTracer gives the top call with the receipt's gas", async () => {
    const receipt = await pub.getTransactionReceipt({ hash: swapTx });
    const frame = (await raw("debug_traceTransaction", [swapTx, { tracer: "callTracer" }])) as CallFrame;
    expect(frame.type).toBe("CALL");
    expect(frame.from).toBe(account.address.toLowerCase());
    expect(frame.to).toBe(target.toLowerCase());
    expect(frame.input).toBe(encodeFunctionData({ abi, functionName: "swap", args: [] }));
    expect(BigInt(frame.gasUsed)).toBe(receipt.gasUsed);
  });

  it("the struct logger reports the receipt's gas and every opcode; disableStack drops the stacks", async () => {
    const receipt = await pub.getTransactionReceipt({ hash: swapTx });
    const full = (await raw("debug_traceTransaction", [swapTx])) as {
      gas: number;
      failed: boolean;
      structLogs: { op: string; stack?: unknown[] }[];
    };
    expect(BigInt(full.gas)).toBe(receipt.gasUsed);
    expect(full.failed).toBe(false);
    expect(full.structLogs.length).toBeGreaterThan(10);
    expect(full.structLogs.some((l) => l.op === "SSTORE")).toBe(true);
    expect(full.structLogs.some((l) => l.stack !== undefined)).toBe(true);
    const bare = (await raw("debug_traceTransaction", [swapTx, { disableStack: true }])) as typeof full;
    expect(bare.structLogs.length).toBe(full.structLogs.length);
    expect(bare.structLogs.every((l) => l.stack === undefined)).toBe(true);
  });

  it("debug_traceBlockByNumber and ByHash trace every transaction of the block, in order", async () => {
    const block = await pub.getBlock({ blockNumber: swapBlock });
    const byNumber = (await raw("debug_traceBlockByNumber", [
      `0x${swapBlock.toString(16)}`,
      { tracer: "callTracer", tracerConfig: { onlyTopCall: true } },
    ])) as { txHash: string; result: CallFrame }[];
    expect(byNumber.map((t) => t.txHash)).toEqual(block.transactions);
    const byHash = await raw("debug_traceBlockByHash", [
      block.hash,
      { tracer: "callTracer", tracerConfig: { onlyTopCall: true } },
    ]);
    expect(byHash).toEqual(byNumber);
  });

  it("trace_transaction and trace_block give parity-style flat traces that say where they sit", async () => {
    const flat = (await raw("trace_transaction", [swapTx])) as FlatTrace[];
    expect(flat[0]?.type).toBe("call");
    expect(flat[0]?.action.callType).toBe("call");
    expect(flat[0]?.action.to).toBe(target.toLowerCase());
    expect(flat[0]?.transactionHash).toBe(swapTx);
    expect(flat[0]?.transactionPosition).toBe(1);
    expect(BigInt(flat[0]?.blockNumber ?? -1)).toBe(swapBlock);
    const all = (await raw("trace_block", [`0x${swapBlock.toString(16)}`])) as FlatTrace[];
    expect(new Set(all.map((t) => t.transactionPosition))).toEqual(new Set([0, 1]));
  });

  it("debug_traceCall traces a call on a block's state, with state and block overrides", async () => {
    const env = encodeFunctionData({ abi, functionName: "env", args: [] });
    const frame = (await raw("debug_traceCall", [
      { from: account.address, to: target, data: env },
      "latest",
      { tracer: "callTracer" },
    ])) as CallFrame & { output: string };
    expect(frame.type).toBe("CALL");
    expect(frame.to).toBe(target.toLowerCase());
    const head = await pub.getBlock({ blockTag: "latest" });
    // env() returns (number, time, coinbase, baseFee): the first word is the block number.
    expect(BigInt(frame.output.slice(0, 66))).toBe(head.number);
    const moved = (await raw("debug_traceCall", [
      { from: account.address, to: target, data: env },
      "latest",
      { tracer: "callTracer", blockOverrides: { number: "0x1234" } },
    ])) as { output: string };
    expect(BigInt(moved.output.slice(0, 66))).toBe(0x1234n);
    // A state override replaces the contract's code for this call only: STOP returns nothing.
    const stopped = (await raw("debug_traceCall", [
      { from: account.address, to: target, data: env },
      "latest",
      { tracer: "callTracer", stateOverrides: { [target]: { code: "0x00" } } },
    ])) as { output?: string };
    expect(stopped.output ?? "0x").toBe("0x");
    const logged = (await raw("debug_traceCall", [
      { from: account.address, to: target, data: env },
      "latest",
    ])) as {
      structLogs: unknown[];
    };
    expect(logged.structLogs.length).toBeGreaterThan(5);
  });

  it("debug_traceCall with an EIP-7702 authorization list runs the delegated code at the authority", async () => {
    const authority = privateKeyToAccount(
      bytesToHex(keccak256(new TextEncoder().encode("dseq 7702 authority"))),
    );
    const auth = await authority.signAuthorization({ address: target, chainId: CHAIN_ID, nonce: 0 });
    const hex = (n: number | bigint) => `0x${n.toString(16)}`;
    const env = encodeFunctionData({ abi, functionName: "env", args: [] });
    const call = { from: account.address, to: authority.address, data: env };
    const plain = (await raw("debug_traceCall", [call, "latest", { tracer: "callTracer" }])) as {
      output?: string;
    };
    expect(plain.output ?? "0x").toBe("0x"); // an EOA without code
    const list = [
      {
        chainId: hex(auth.chainId),
        address: auth.address,
        nonce: hex(auth.nonce),
        yParity: hex(auth.yParity ?? 0),
        r: auth.r,
        s: auth.s,
      },
    ];
    const frame = (await raw("debug_traceCall", [
      { ...call, authorizationList: list },
      "latest",
      { tracer: "callTracer" },
    ])) as CallFrame & { output: string };
    const head = await pub.getBlock({ blockTag: "latest" });
    // The authority now runs TimeSensitive's env(): its first word is the block number.
    expect(BigInt(frame.output.slice(0, 66))).toBe(head.number);
    expect(frame.to).toBe(authority.address.toLowerCase());
  });

  it("debug_traceCall of a loop at the gas cap is stopped at its timeout", async () => {
    const spin = encodeFunctionData({ abi, functionName: "spin", args: [] });
    const started = performance.now();
    await expect(
      raw("debug_traceCall", [
        { to: target, data: spin },
        "latest",
        { tracer: "callTracer", timeout: "300ms" },
      ]),
    ).rejects.toThrow(/timeout/);
    expect(performance.now() - started).toBeLessThan(3_000);
  });

  it("ethers v6 reads the same traces (provider.send)", async () => {
    const provider = new JsonRpcProvider(server.httpUrl as string, Network.from(CHAIN_ID), {
      staticNetwork: true,
    });
    try {
      const frame = (await provider.send("debug_traceTransaction", [
        swapTx,
        { tracer: "callTracer" },
      ])) as CallFrame;
      expect(frame).toEqual(await raw("debug_traceTransaction", [swapTx, { tracer: "callTracer" }]));
      const flat = (await provider.send("trace_transaction", [swapTx])) as FlatTrace[];
      expect(flat[0]?.transactionHash).toBe(swapTx);
    } finally {
      provider.destroy();
    }
  });

  it("a trace past its timeout is refused and the workers go on serving", async () => {
    await expect(raw("debug_traceTransaction", [swapTx, { timeout: "0s" }])).rejects.toThrow(/timeout/);
    const frame = (await raw("debug_traceTransaction", [swapTx, { tracer: "callTracer" }])) as CallFrame;
    expect(frame.type).toBe("CALL");
  });

  it("hostile trace requests get clear errors", async () => {
    await expect(raw("debug_traceTransaction", [swapTx, { tracer: "nope" }])).rejects.toThrow(/not found/);
    await expect(raw("debug_traceTransaction", [swapTx, { timeout: "forever" }])).rejects.toThrow(
      /invalid duration/,
    );
    await expect(raw("debug_traceTransaction", [`0x${"11".repeat(32)}`])).rejects.toThrow(
      /transaction not found/,
    );
    await expect(raw("debug_traceBlockByNumber", ["0x0"])).rejects.toThrow(/genesis is not traceable/);
  });
});
