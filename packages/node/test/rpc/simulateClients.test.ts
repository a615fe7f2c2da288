/**
 * Real clients on eth_simulateV1 and eth_sendRawTransactionSync: viem's `simulateCalls` /
 * `simulateBlocks` / `sendRawTransactionSync` and ethers v6, against the server on a real
 * l2-exec chain and txpool with the RPC EVM worker pool (real worker threads), automining
 * each admitted transaction as a dev chain does.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, createNoopLogger, type Hex } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { createRpcServer, type RpcServer } from "@dseq/rpc";
import { JsonRpcProvider, Network, Wallet } from "ethers";
import {
  type Abi,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type PublicClient,
  parseEther,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallPool } from "../../src/rpc/callPool.ts";
import { chainReader } from "../../src/rpcBackend.ts";
import { type L2TestBackend, openL2Backend } from "./helpers/l2Backend.ts";
import { COUNTER_SOURCE, compileSolidity } from "./helpers/solidity.ts";

const CHAIN_ID = 903;
const KEY = bytesToHex(keccak256(new TextEncoder().encode("dseq simulate clients test key")));
const account = privateKeyToAccount(KEY);
const RECIPIENT = "0x000000000000000000000000000000000000beef";
/** Runtime code returning block.number and block.timestamp (NUMBER, TIMESTAMP, MSTOREs, RETURN). */
const BLOCK_ENV_CODE: Hex = "0x436000524260205260406000f3";
const BLOCK_ENV = "0x00000000000000000000000000000000000e0e0e";
const FRESH = "0x00000000000000000000000000000000000f4e54";

describe("viem and ethers on eth_simulateV1 and eth_sendRawTransactionSync", () => {
  let dataDir: string;
  let l2: L2TestBackend;
  let pool: CallPool;
  let server: RpcServer;
  let pub: PublicClient;
  let wallet: WalletClient;
  let abi: Abi;
  let counter: Hex;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "rpc-simulate-clients-"));
    l2 = await openL2Backend({
      dataDir,
      automine: true,
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
    const c = compileSolidity(COUNTER_SOURCE, "Counter");
    abi = c.abi as Abi;
    const hash = await wallet.deployContract({ abi, bytecode: c.bytecode, args: [5n], account, chain });
    counter = (await pub.getTransactionReceipt({ hash })).contractAddress as Hex;
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await pool?.stop();
    await l2?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("viem simulateCalls: a transfer, a write and a read see each other; traceTransfers logs the ether; nothing is kept", async () => {
    const head = await pub.getBlockNumber({ cacheTime: 0 });
    const { results } = await pub.simulateCalls({
      account: account.address,
      traceTransfers: true,
      calls: [
        { to: RECIPIENT, value: parseEther("1") },
        { to: counter, abi, functionName: "increment" },
        { to: counter, abi, functionName: "count" },
        { to: counter, abi, functionName: "fail" },
      ],
    });
    expect(results.map((r) => r.status)).toEqual(["success", "success", "success", "failure"]);
    expect(results[2]?.result).toBe(6n);
    const transfer = results[0]?.logs?.[0];
    expect(transfer?.address.toLowerCase()).toBe(`0x${"ee".repeat(20)}`);
    expect(transfer?.topics[2]).toBe(`0x${RECIPIENT.slice(2).padStart(64, "0")}`);
    expect(BigInt(transfer?.data ?? "0x0")).toBe(parseEther("1"));
    expect(results[1]?.logs?.length).toBe(1);
    expect(String(results[3]?.error)).toMatch(/counter says no/);
    // A simulation changes nothing on the chain.
    expect(await pub.getBlockNumber({ cacheTime: 0 })).toBe(head);
    expect(await pub.getBalance({ address: RECIPIENT })).toBe(0n);
    expect(await pub.readContract({ address: counter, abi, functionName: "count" })).toBe(5n);
  });

  it("viem simulateBlocks: chained blocks with overrides, next-block numbering and the validation refusal", async () => {
    const latest = await pub.getBlock();
    const time = latest.timestamp + 100n;
    const blocks = await pub.simulateBlocks({
      blocks: [
        {
          stateOverrides: [
            { address: BLOCK_ENV, code: BLOCK_ENV_CODE },
            { address: FRESH, balance: parseEther("2") },
          ],
          calls: [{ account: FRESH, to: RECIPIENT, value: parseEther("1") }, { to: BLOCK_ENV }],
        },
        {
          blockOverrides: { time },
          calls: [{ to: BLOCK_ENV }, { account: RECIPIENT, to: FRESH, value: 1n }],
        },
      ],
    });
    expect(blocks.map((b) => b.number)).toEqual([latest.number + 1n, latest.number + 2n]);
    // The first block is one block time (2 s) after the head, as the real next block will be.
    expect(blocks[0]?.timestamp).toBe(latest.timestamp + 2n);
    expect(blocks[1]?.timestamp).toBe(time);
    expect(blocks[1]?.parentHash).toBe(blocks[0]?.hash);
    const env = (d: Hex | undefined): [bigint, bigint] => [
      BigInt((d ?? "0x").slice(0, 66)),
      BigInt(`0x${(d ?? "").slice(66, 130)}`),
    ];
    expect(env(blocks[0]?.calls[1]?.data)).toEqual([latest.number + 1n, latest.timestamp + 2n]);
    expect(env(blocks[1]?.calls[0]?.data)).toEqual([latest.number + 2n, time]);
    // The recipient's ether from block 1 is there in block 2.
    expect(blocks[1]?.calls[1]?.status).toBe("success");
    expect(blocks[0]?.gasUsed).toBe(21_000n + (blocks[0]?.calls[1]?.gasUsed ?? 0n));

    // With validation, an account without funds is refused with -38014 (or the fee rule).
    await expect(
      pub.simulateBlocks({
        validation: true,
        blocks: [{ calls: [{ account: FRESH, to: RECIPIENT, value: 1n }] }],
      }),
    ).rejects.toThrow(/funds|fee/i);
  });

  it("viem sendRawTransactionSync returns the receipt of the committed block", async () => {
    const request = await wallet.prepareTransactionRequest({
      account,
      chain: null,
      to: counter,
      data: "0xd09de08a", // increment()
      gas: 100_000n,
    });
    const serializedTransaction = await wallet.signTransaction({ ...request, account, chain: null } as never);
    const receipt = await wallet.sendRawTransactionSync({ serializedTransaction });
    expect(receipt.status).toBe("success");
    expect(receipt.blockNumber).toBe(await pub.getBlockNumber({ cacheTime: 0 }));
    expect(receipt.transactionHash).toBe(
      bytesToHex(keccak256(Buffer.from(serializedTransaction.slice(2), "hex"))),
    );
    expect(receipt.logs.length).toBe(1);
    expect(await pub.readContract({ address: counter, abi, functionName: "count" })).toBe(6n);
  });

  it("ethers v6: a signed transaction through eth_sendRawTransactionSync, the receipt matching getTransactionReceipt", async () => {
    // ethers 6.17 has no sync send of its own: the raw method through provider.send.
    const url = server.httpUrl as string;
    const provider = new JsonRpcProvider(url, Network.from(CHAIN_ID), { staticNetwork: true });
    try {
      const signer = new Wallet(KEY, provider);
      const tx = await signer.populateTransaction({ to: RECIPIENT, value: 7n });
      const raw = await signer.signTransaction(tx);
      const receipt = (await provider.send("eth_sendRawTransactionSync", [raw])) as Record<string, string>;
      const viaGet = await provider.getTransactionReceipt(receipt.transactionHash as string);
      expect(viaGet?.status).toBe(1);
      expect(receipt.status).toBe("0x1");
      expect(receipt.blockHash).toBe(viaGet?.blockHash);
      expect(BigInt(receipt.blockNumber as string)).toBe(BigInt(viaGet?.blockNumber ?? -1));
      expect(await provider.getBalance(RECIPIENT)).toBe(7n);
    } finally {
      provider.destroy();
    }
  });

  it("hostile eth_simulateV1 input is refused with geth's codes and the server keeps serving", async () => {
    const rpc = async (params: unknown[]): Promise<{ error?: { code: number; message: string } }> => {
      const res = await fetch(server.httpUrl as string, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_simulateV1", params }),
      });
      return (await res.json()) as { error?: { code: number; message: string } };
    };
    expect((await rpc([{ blockStateCalls: [] }])).error?.code).toBe(-32602);
    expect((await rpc([{ blockStateCalls: Array.from({ length: 257 }, () => ({})) }])).error?.code).toBe(
      -38026,
    );
    expect((await rpc([{ blockStateCalls: [{ blockOverrides: { number: "0x10000" } }] }])).error?.code).toBe(
      -38026,
    );
    const calls = Array.from({ length: 1001 }, () => ({ to: RECIPIENT }));
    expect((await rpc([{ blockStateCalls: [{ calls }] }])).error?.code).toBe(-38026);
    expect((await rpc([{ blockStateCalls: [{ calls: [], bogus: 1 }] }])).error?.code).toBe(-32602);
    const head = await pub.getBlockNumber({ cacheTime: 0 });
    const order = [
      { blockOverrides: { number: `0x${(head + 3n).toString(16)}` } },
      { blockOverrides: { number: `0x${(head + 2n).toString(16)}` } },
    ];
    expect((await rpc([{ blockStateCalls: order }])).error?.code).toBe(-38020);
    const move = { [RECIPIENT]: { movePrecompileToAddress: FRESH } };
    expect((await rpc([{ blockStateCalls: [{ stateOverrides: move }] }])).error?.message).toMatch(
      /not a precompile/,
    );
    expect(await pub.getBlockNumber({ cacheTime: 0 })).toBe(head);
  });
});
