/**
 * The server side of `pnpm bench rpc`, run as its own process so the load generator does not
 * share its event loop: a real l2-exec chain and txpool (a view contract, funded senders, one
 * block of 100 transfers) behind the HTTP server. Prints `{"url": ...}` and runs until killed.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNoopLogger, hexToBytes } from "@dseq/common";
import { createRpcServer } from "@dseq/rpc";
import { encodeFunctionData, getContractAddress, parseAbi } from "viem";
import { CallPool } from "../src/rpc/callPool.ts";
import { chainReader } from "../src/rpcBackend.ts";
import { openL2Backend } from "../test/rpc/helpers/l2Backend.ts";
import { compileSolidity } from "../test/rpc/helpers/solidity.ts";
import {
  BENCH_CHAIN_ID,
  benchAccount,
  ERC20_SOURCE,
  FILLERS,
  SENDERS,
  VIEW_ADDRESS,
  VIEW_CODE,
} from "./benchChain.ts";

const dataDir = await mkdtemp(join(tmpdir(), "rpc-bench-"));
const alloc: Record<string, { balance: bigint; code?: `0x${string}`; storage?: Record<string, string> }> = {
  [VIEW_ADDRESS]: { balance: 0n, code: VIEW_CODE, storage: { "0x00": "0x2a" } },
};
for (let i = 0; i < SENDERS + FILLERS; i++)
  alloc[benchAccount(i).address.toLowerCase()] = { balance: 10n ** 21n };
const l2 = await openL2Backend({
  dataDir,
  chainConfig: { chainId: BENCH_CHAIN_ID, timestamp: BigInt(Math.floor(Date.now() / 1000)), alloc },
});
const raws: Uint8Array[] = [];
for (let i = SENDERS; i < SENDERS + FILLERS; i++) {
  const signed = await benchAccount(i).signTransaction({
    chainId: BENCH_CHAIN_ID,
    type: "eip1559",
    nonce: 0,
    to: "0x000000000000000000000000000000000000beef",
    value: 1n,
    gas: 21_000n,
    maxFeePerGas: 10n ** 10n,
    maxPriorityFeePerGas: 1n,
  });
  raws.push(hexToBytes(signed));
}
await l2.pool.addRemotes(raws);
const block = await l2.mine();
if (block.transactions.length !== FILLERS) throw new Error(`block holds ${block.transactions.length} txs`);
// An ERC-20 deployed and one transfer mined: the targets of eth_call_per_s and trace_tx_per_s.
const owner = benchAccount(SENDERS);
const token = compileSolidity(ERC20_SOURCE, "Token");
const fee = {
  chainId: BENCH_CHAIN_ID,
  type: "eip1559",
  maxFeePerGas: 10n ** 10n,
  maxPriorityFeePerGas: 1n,
} as const;
const admitted = async (raw: `0x${string}`): Promise<`0x${string}`> => {
  const [r] = await l2.pool.addRemotes([hexToBytes(raw)]);
  if (r?.ok !== true) throw new Error(`bench setup tx refused: ${r?.error.message}`);
  return r.hash;
};
await admitted(await owner.signTransaction({ ...fee, nonce: 1, gas: 2_000_000n, data: token.bytecode }));
await l2.mine();
const tokenAddress = getContractAddress({ from: owner.address, nonce: 1n });
const holder = "0x000000000000000000000000000000000000beef" as const;
const transfer = await owner.signTransaction({
  ...fee,
  nonce: 2,
  gas: 100_000n,
  to: tokenAddress,
  data: encodeFunctionData({
    abi: parseAbi(["function transfer(address to, uint256 value) returns (bool)"]),
    functionName: "transfer",
    args: [holder, 10n ** 18n],
  }),
});
const transferHash = await admitted(transfer);
await l2.mine();
// The node's backend: eth_call and traces in the CallPool's worker threads (ADR 0130, 0132).
const callPool = new CallPool({}, { source: await l2.chain.callSource(), logger: createNoopLogger() });
await callPool.start();
const server = createRpcServer(
  { http: { host: "127.0.0.1", port: 0 }, ws: false, maxBatchSize: 1000 },
  { backend: { ...l2.backend, chain: chainReader(l2.chain, { callPool, blockTimeMs: 2000 }) } },
);
await server.start();
process.stdout.write(
  `${JSON.stringify({
    url: server.httpUrl,
    block: Number(block.header.number),
    token: tokenAddress,
    holder,
    transfer: transferHash,
    workers: callPool.opts.workers,
  })}\n`,
);

async function shutdown(): Promise<void> {
  await server.stop();
  await callPool.stop();
  await l2.close();
  await rm(dataDir, { recursive: true, force: true });
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown());
process.stdin.on("end", () => void shutdown());
process.stdin.resume();
