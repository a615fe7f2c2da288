// A 1-validator devnet in a temp dir: start it, send a transfer with viem, wait for the
// receipt, stop. Run: bash scripts/env.sh node packages/devnet/examples/quickDevnet.ts
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPublicClient, createWalletClient, http } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { startDevnet } from "../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "devnet-example-"));
const devnet = await startDevnet({
  dataDir: join(dir, "net"),
  validators: 1,
  followers: 0,
  blockTimeMs: 1000,
});
try {
  const node = devnet.nodes[0];
  if (!node) throw new Error("no node");
  const [alice, bob] = devnet.funded;
  if (!alice || !bob) throw new Error("no funded accounts");
  const wallet = createWalletClient({
    account: privateKeyToAccount(alice.privateKey),
    transport: http(node.rpcUrl),
  });
  const client = createPublicClient({ transport: http(node.rpcUrl) });
  const hash = await wallet.sendTransaction({ to: bob.address, value: 12_345n, gas: 21_000n, chain: null });
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 250, timeout: 60_000 });
  console.log(`transfer ${hash} committed in block ${receipt.blockNumber} (${receipt.status})`);
} finally {
  await devnet.stop();
  rmSync(dir, { recursive: true, force: true });
}
