// l1_poll_logs_per_s, run by `pnpm bench l1listener` (packages/devnet/bench/l1listener.bench.ts, ADR 0124).
import { DepositBridgeArtifact, rpc } from "@dseq/l1-contracts";
import { createWalletClient, defineChain, encodeFunctionData, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { L1BridgeListener, type L1Event } from "../src/index.ts";
import { startTestL1, tempStore } from "../test/helpers.ts";

/** What it measures. */
export const pollLogsDescription =
  "l1_poll_logs_per_s: logs read, checked, decoded, stored and emitted per second by a fresh listener (EDR, 10,000 deposits in 20 blocks)";

const DEPOSITS = 10_000;
const PER_BLOCK = 500;

export default async function run(): Promise<Record<string, number>> {
  const t = await startTestL1();
  try {
    const deployer = t.l1.accounts[0]!;
    const chain = defineChain({
      id: t.l1.chainId,
      name: "dev-l1",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [t.l1.rpcUrl] } },
    });
    const wallet = createWalletClient({
      account: privateKeyToAccount(deployer.privateKey),
      chain,
      transport: http(),
    });
    await rpc(t.l1.rpcUrl, "evm_setAutomine", [false]);
    let nonce = await t.client.getTransactionCount({ address: deployer.address, blockTag: "pending" });
    const data = encodeFunctionData({
      abi: DepositBridgeArtifact.abi,
      functionName: "deposit",
      args: ["0x000000000000000000000000000000000000bEEF", 10n ** 9n], // whole gwei only
    });
    const fill = Date.now();
    for (let i = 0; i < DEPOSITS; i++) {
      await wallet.sendTransaction({
        to: t.d.depositBridge,
        data,
        nonce: nonce++,
        gas: 120_000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 1n,
      });
      if ((i + 1) % PER_BLOCK === 0) await rpc(t.l1.rpcUrl, "evm_mine", []);
    }
    await rpc(t.l1.rpcUrl, "evm_mine", []);
    await rpc(t.l1.rpcUrl, "evm_setAutomine", [true]);
    console.log(
      `filled the dev L1 with ${DEPOSITS} deposits in ${((Date.now() - fill) / 1000).toFixed(1)} s`,
    );

    const db = await tempStore();
    const listener = new L1BridgeListener(
      {
        endpoints: [t.l1.rpcUrl],
        l1ChainId: t.l1.chainId,
        contracts: t.contracts,
        startBlock: t.d.startBlock,
        confirmations: 0,
      },
      { store: db.store },
    );
    let emitted = 0;
    listener.events.on("event", (_e: L1Event) => {
      emitted++;
    });
    try {
      const head = await t.client.getBlockNumber();
      const began = performance.now();
      while ((listener.status().cursor?.number ?? -1n) < head) await listener.pollOnce();
      await new Promise((r) => setImmediate(r));
      const seconds = (performance.now() - began) / 1000;
      const deposits = (await listener.readConfirmed(0)).filter((e) => e.type === "deposit").length;
      if (deposits !== DEPOSITS) throw new Error(`read ${deposits} deposits, expected ${DEPOSITS}`);
      return {
        l1_poll_logs_per_s: Math.round(emitted / seconds),
        l1_poll_logs: emitted,
        l1_poll_blocks: Number(head - t.d.startBlock),
        l1_poll_seconds: Number(seconds.toFixed(3)),
      };
    } finally {
      await listener.stop();
      await db.close();
    }
  } finally {
    await t.stop();
  }
}

// Run directly (by the devnet's `l1listener` suite, in its own process): the metrics as JSON.
if (import.meta.main) console.log(JSON.stringify(await run()));
