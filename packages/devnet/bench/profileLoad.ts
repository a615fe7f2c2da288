// Profiles dseq nodes under load (issue #22, ADR 0164). Not a bench suite (no .bench.ts):
//   node packages/devnet/bench/profileLoad.ts single <dir>          1 validator, the single bench's load
//   node packages/devnet/bench/profileLoad.ts devnet <dir> [tps]    4 validators, honest load, 20 s
// `<dir>` receives every node's V8 CPU profile (`--cpu-prof` through NODE_OPTIONS, written when
// the node exits on SIGTERM); `-` runs without the profiler. Prints the load report and each
// node's tx gossip, txpool refusal and CPU counters from its /metrics. PROFILE_KEEP=1 keeps the
// data directory (node logs) and prints where it is; PROFILE_DEBUG=1 runs the nodes at log level
// debug (block sizes, timings and the block budget's estimates in `block proposed` lines).
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { errorMessage } from "@dseq/common";
import { startDevnet } from "../src/devnet.ts";
import { runHonestLoad } from "./honestLoad.ts";
import { driveLoad } from "./single.bench.ts";

const COUNTERS =
  /^dseq_p2p_gossip_(messages|in_bytes|out_bytes)\w*\{[^}]*topic="tx"|^dseq_txpool_rejected|^dseq_process_process_cpu_seconds_total /;

const [mode, out = "-", tpsArg = "400"] = process.argv.slice(2);
if (mode !== "single" && mode !== "devnet") {
  console.error("usage: profileLoad.ts single|devnet <profile dir | -> [tps]");
  process.exit(2);
}
if (out !== "-") mkdirSync(out, { recursive: true });
const root = mkdtempSync(join(tmpdir(), "profile-load-"));
const d = await startDevnet({
  dataDir: root,
  validators: mode === "single" ? 1 : 4,
  followers: 0,
  loadAccounts: mode === "single" ? 32 : 256,
  control: false,
  ...(process.env.PROFILE_DEBUG
    ? {
        patchConfig: (_name: string, c: Record<string, unknown>) => ({
          ...c,
          log: { level: "debug", format: "json" },
        }),
      }
    : {}),
  ...(out === "-" ? {} : { env: { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${out}` } }),
});
try {
  if (mode === "single") {
    const url = d.nodes[0]?.rpcUrl as string;
    for (let i = 0; i < 2; i++) console.log(await driveLoad(url, d.loadAccounts.slice(0, 32), d.chainId));
  } else {
    const r = await runHonestLoad({
      rpcUrls: d.nodes.map((n) => n.rpcUrl),
      accounts: d.loadAccounts,
      chainId: d.chainId,
      tps: Number(tpsArg),
      durationMs: 20_000,
    });
    console.log(JSON.stringify({ ...r, pool: undefined }));
  }
  for (const n of d.nodes) {
    const text = await fetch(`${n.adminUrl}/metrics`).then(
      (r) => r.text(),
      (err: unknown) => `unreachable (${n.state}, exit ${JSON.stringify(n.lastExit)}): ${errorMessage(err)}`,
    );
    const lines = text.split("\n").filter((l) => COUNTERS.test(l) || l.startsWith("unreachable"));
    console.log(`${n.name} (pid ${n.pid})\n  ${lines.join("\n  ")}`);
  }
} finally {
  await d.stop();
  if (process.env.PROFILE_KEEP) console.log(`kept ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
