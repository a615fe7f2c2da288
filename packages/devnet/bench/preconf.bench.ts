// `pnpm bench preconf`: 4 validators on 127.0.0.1; preconfirmation latency at 100 tx/s (half of
// what this 2-core machine sustains, see bench/results/devnet.json) and the kept ratio over 20
// kill -9 of the proposer (bench/preconf.ts). devnet.bench.ts runs the same module in its run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevnet } from "../src/devnet.ts";
import { measurePreconf, waitCaughtUp } from "./preconf.ts";

export const description =
  "4 validators: send -> preconfirmation over WebSocket at half load (p50, p99) and preconfirmed txs kept over 20 proposer kills";

export default async function run(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), "preconf-bench-"));
  const d = await startDevnet({ dataDir: join(root, "net"), validators: 4, followers: 0, loadAccounts: 128 });
  try {
    await waitCaughtUp(d.nodes[0]?.rpcUrl as string);
    return await measurePreconf(d, {
      halfTps: Number(process.env.PRECONF_TPS ?? 100),
      kills: Number(process.env.PRECONF_KILLS ?? 20),
    });
  } finally {
    await d.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
