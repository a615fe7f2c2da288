/**
 * Real clients (viem and ethers v6) against the server on the real l2-exec chain and txpool.
 * A block is built and committed as soon as a transaction is admitted (automine), as a dev
 * chain does; the newHeads tests also mine on demand.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, type Hex } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { createRpcServer, type RpcServer } from "@dseq/rpc";
import {
  ContractFactory,
  type Contract as EthersContract,
  JsonRpcProvider,
  Network,
  Wallet,
  WebSocketProvider,
} from "ethers";
import {
  type Abi,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodeFunctionData,
  http,
  parseEther,
  parseEventLogs,
  webSocket,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type L2TestBackend, openL2Backend } from "./helpers/l2Backend.ts";
import { COUNTER_SOURCE, compileSolidity } from "./helpers/solidity.ts";

const CHAIN_ID = 901;
const keccakHex = (s: string): Hex => bytesToHex(keccak256(new TextEncoder().encode(s)));
const KEY_A = keccakHex("dseq rpc client test key A");
const KEY_B = keccakHex("dseq rpc client test key B");
const accountA = privateKeyToAccount(KEY_A);
const accountB = privateKeyToAccount(KEY_B);
const RECIPIENT = "0x000000000000000000000000000000000000beef";

describe("real clients: viem and ethers v6 on l2-exec + txpool", () => {
  let dataDir: string;
  let l2: L2TestBackend;
  let server: RpcServer;
  let counter: { abi: Abi; bytecode: Hex };
  let counterAddress: Hex;
  const chain = defineChain({
    id: CHAIN_ID,
    name: "dseq-test",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: ["http://127.0.0.1"] } },
  });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "rpc-clients-"));
    l2 = await openL2Backend({
      dataDir,
      automine: true,
      chainConfig: {
        chainId: CHAIN_ID,
        timestamp: BigInt(Math.floor(Date.now() / 1000)),
        alloc: {
          [accountA.address.toLowerCase()]: { balance: 1000n * 10n ** 18n },
          [accountB.address.toLowerCase()]: { balance: 1000n * 10n ** 18n },
        },
      },
    });
    server = createRpcServer(
      { http: { host: "127.0.0.1", port: 0 }, ws: { host: "127.0.0.1", port: 0 } },
      { backend: l2.backend },
    );
    await server.start();
    const c = compileSolidity(COUNTER_SOURCE, "Counter");
    counter = { abi: c.abi as Abi, bytecode: c.bytecode };
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
    await l2?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("viem: chain id, balance, transfer, deploy, call, revert, logs, filters", async () => {
    const transport = http(server.httpUrl as string);
    const pub = createPublicClient({ chain, transport });
    const wallet = createWalletClient({ chain, transport, account: accountA });

    expect(await pub.getChainId()).toBe(CHAIN_ID);
    expect(await pub.getBalance({ address: accountA.address })).toBe(1000n * 10n ** 18n);

    const blockFilter = await pub.createBlockFilter();
    const pendingFilter = await pub.createPendingTransactionFilter();

    const hash = await wallet.sendTransaction({ to: RECIPIENT, value: parseEther("1.5") });
    const receipt = await pub.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    expect(receipt.status).toBe("success");
    expect(receipt.gasUsed).toBe(21_000n);
    expect(await pub.getBalance({ address: RECIPIENT })).toBe(parseEther("1.5"));
    const tx = await pub.getTransaction({ hash });
    expect(tx.from.toLowerCase()).toBe(accountA.address.toLowerCase());
    expect(tx.blockNumber).toBe(receipt.blockNumber);

    const deployHash = await wallet.deployContract({
      abi: counter.abi,
      bytecode: counter.bytecode,
      args: [41n],
    });
    const deployed = await pub.waitForTransactionReceipt({ hash: deployHash, pollingInterval: 50 });
    const address = deployed.contractAddress as Hex;
    counterAddress = address;
    expect(address).toMatch(/^0x[0-9a-f]{40}$/i);
    expect(await pub.getCode({ address })).not.toBe("0x");
    expect(await pub.readContract({ address, abi: counter.abi, functionName: "count" })).toBe(41n);

    const eventFilter = await pub.createContractEventFilter({
      address,
      abi: counter.abi,
      eventName: "Incremented",
    });
    const { request } = await pub.simulateContract({
      address,
      abi: counter.abi,
      functionName: "increment",
      account: accountA,
    });
    const incHash = await wallet.writeContract(request);
    const incReceipt = await pub.waitForTransactionReceipt({ hash: incHash, pollingInterval: 50 });
    expect(await pub.readContract({ address, abi: counter.abi, functionName: "count" })).toBe(42n);
    const parsed = parseEventLogs({ abi: counter.abi, logs: incReceipt.logs });
    expect(parsed).toHaveLength(1);
    expect(parsed[0]?.eventName).toBe("Incremented");
    expect((parsed[0] as unknown as { args: { newCount: bigint } }).args.newCount).toBe(42n);

    const logs = await pub.getContractEvents({
      address,
      abi: counter.abi,
      eventName: "Incremented",
      fromBlock: 0n,
    });
    expect(logs).toHaveLength(1);
    expect(logs[0]?.transactionHash).toBe(incHash);
    expect((logs[0] as unknown as { args: { by: string } }).args.by.toLowerCase()).toBe(
      accountA.address.toLowerCase(),
    );

    await expect(
      pub.simulateContract({ address, abi: counter.abi, functionName: "fail", account: accountA }),
    ).rejects.toThrow(/counter says no/);

    // eth_call with a state override: slot 0 (count) replaced for this call only.
    const overridden = await pub.call({
      to: address,
      data: encodeFunctionData({ abi: counter.abi, functionName: "count" }),
      stateOverride: [
        { address, stateDiff: [{ slot: `0x${"00".repeat(32)}`, value: `0x${"07".padStart(64, "0")}` }] },
      ],
    });
    expect(BigInt(overridden.data as Hex)).toBe(7n);
    expect(await pub.readContract({ address, abi: counter.abi, functionName: "count" })).toBe(42n);

    // eth_createAccessList: increment() reads and writes slot 0 of the counter.
    const al = await pub.createAccessList({
      account: accountA,
      to: address,
      data: encodeFunctionData({ abi: counter.abi, functionName: "increment" }),
    });
    expect(al.accessList).toEqual([
      { address: address.toLowerCase(), storageKeys: [`0x${"00".repeat(32)}`] },
    ]);
    expect(al.gasUsed).toBeGreaterThan(21_000n);

    const gas = await pub.estimateContractGas({
      address,
      abi: counter.abi,
      functionName: "increment",
      account: accountA,
    });
    expect(gas).toBeGreaterThan(21_000n);
    expect(gas).toBeLessThan(100_000n);

    // Filters: three blocks were mined since the block filter was made; the transfer, the
    // deployment and the increment went through the pending set.
    const blocks = await pub.getFilterChanges({ filter: blockFilter });
    expect(blocks).toHaveLength(3);
    expect(blocks[2]).toBe(incReceipt.blockHash);
    const pendingHashes = await pub.getFilterChanges({ filter: pendingFilter });
    expect(pendingHashes).toEqual([hash, deployHash, incHash]);
    const filtered = await pub.getFilterChanges({ filter: eventFilter });
    expect(filtered).toHaveLength(1);
    expect(await pub.getFilterChanges({ filter: eventFilter })).toHaveLength(0);
    expect(await pub.getFilterLogs({ filter: eventFilter })).toHaveLength(1);
    expect(await pub.uninstallFilter({ filter: eventFilter })).toBe(true);
    await expect(pub.getFilterChanges({ filter: eventFilter })).rejects.toThrow(/filter not found/);

    const fees = await pub.getFeeHistory({ blockCount: 3, rewardPercentiles: [50] });
    expect(fees.baseFeePerGas).toHaveLength(4);
    expect(await pub.getTransactionCount({ address: accountA.address, blockTag: "pending" })).toBe(3);
  }, 60_000);

  it("viem over WebSocket: newHeads, logs and newPendingTransactions subscriptions", async () => {
    const pub = createPublicClient({ chain, transport: webSocket(server.wsUrl as string) });
    const heads: bigint[] = [];
    const unwatch = pub.watchBlocks({ onBlock: (b) => heads.push(b.number) });
    const start = await pub.getBlockNumber();
    await expect.poll(() => server.subscriptions.size).toBe(1);
    await l2.mine();
    await l2.mine();
    await expect.poll(() => heads.length, { timeout: 5000 }).toBe(2);
    // viem fetches each announced block with eth_getBlockByNumber, so callbacks may interleave;
    // the server's own ordering is checked in subscriptions.test.ts.
    expect([...heads].sort((a, b) => (a < b ? -1 : 1))).toEqual([start + 1n, start + 2n]);
    unwatch();
    await expect.poll(() => server.subscriptions.size).toBe(0);

    const events: bigint[] = [];
    const pendingSeen: Hex[] = [];
    const unwatchLogs = pub.watchContractEvent({
      address: counterAddress,
      abi: counter.abi,
      eventName: "Incremented",
      onLogs: (logs) => {
        for (const l of logs) events.push((l as unknown as { args: { newCount: bigint } }).args.newCount);
      },
    });
    const unwatchPending = pub.watchPendingTransactions({ onTransactions: (h) => pendingSeen.push(...h) });
    await expect.poll(() => server.subscriptions.size).toBe(2);
    const wallet = createWalletClient({
      chain,
      transport: http(server.httpUrl as string),
      account: accountA,
    });
    const h = await wallet.writeContract({
      address: counterAddress,
      abi: counter.abi,
      functionName: "increment",
    });
    await expect.poll(() => events, { timeout: 5000 }).toEqual([43n]);
    await expect.poll(() => pendingSeen, { timeout: 5000 }).toEqual([h]);
    unwatchLogs();
    unwatchPending();
    await expect.poll(() => server.subscriptions.size).toBe(0);
    await pub.transport.getRpcClient().then((c) => c.close());
  }, 30_000);

  it("ethers v6: network, balance, transfer, deploy, call, logs, block events over WebSocket", async () => {
    const network = new Network("dseq-test", CHAIN_ID);
    const provider = new JsonRpcProvider(server.httpUrl as string, network, {
      staticNetwork: network,
      pollingInterval: 50,
      // ethers shares identical requests for 250 ms; blocks here come faster than that.
      cacheTimeout: -1,
    });
    const wallet = new Wallet(KEY_B, provider);
    expect((await provider.getNetwork()).chainId).toBe(BigInt(CHAIN_ID));
    expect(await provider.getBalance(wallet.address)).toBe(1000n * 10n ** 18n);

    const sent = await wallet.sendTransaction({ to: RECIPIENT, value: 7n });
    const rec = await sent.wait();
    expect(rec?.status).toBe(1);

    const factory = new ContractFactory(counter.abi as never, counter.bytecode, wallet);
    const contract = (await factory.deploy(5n)) as unknown as EthersContract;
    await contract.waitForDeployment();
    expect(await contract.getFunction("count")()).toBe(5n);
    const incTx = await contract.getFunction("increment")();
    const incRec = await incTx.wait();
    expect(incRec.logs).toHaveLength(1);
    const ev = contract.interface.parseLog(incRec.logs[0]);
    expect(ev?.name).toBe("Incremented");
    expect(ev?.args.newCount).toBe(6n);
    const events = await contract.queryFilter(contract.getEvent("Incremented"), 0);
    expect(events).toHaveLength(1);
    await expect(contract.getFunction("fail").staticCall()).rejects.toThrow(/counter says no/);

    const ws = new WebSocketProvider(server.wsUrl as string, network, { staticNetwork: network });
    const seen: number[] = [];
    await ws.on("block", (n: number) => seen.push(n));
    await expect.poll(() => server.subscriptions.size).toBeGreaterThan(0);
    const b = await l2.mine();
    await expect.poll(() => seen.includes(Number(b.header.number)), { timeout: 5000 }).toBe(true);
    await ws.destroy();
    provider.destroy();
  }, 60_000);
});
