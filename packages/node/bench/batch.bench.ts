/**
 * `pnpm bench batch` (issue #24): the batch-submitter's figures (bytes and L1 gas per tx, from
 * packages/batch-submitter/bench/measureBatchBytes.ts, run as its own process: it needs that
 * package's fixtures and an EDR L1) and the node's TSS over real libp2p hosts on 127.0.0.1 (all
 * in this process, so every member's CPU work shares the cores): the DKG of 4 and 7 validators,
 * and batch digests signed by the group with one signer silent (its service is stopped, its host
 * stays connected, so requests to it go unanswered), median of 15 rounds.
 */
import { spawn } from "node:child_process";
import { measureTssNetwork } from "../src/tss/measureTssNetwork.ts";

export const description =
  "batch_bytes_per_tx_* vs op_brotli_bytes_per_tx_*, batch_l1_gas_per_tx (batch-submitter, real EDR); batch_sign_ms_{4,7} (p50 of 15, one signer silent) and dkg_network_ms_{4,7} (slowest member) over real p2p hosts";

/** Runs the batch-submitter measurement and returns the JSON object of its last stdout line. */
async function batchBytesFigures(): Promise<Record<string, number>> {
  const script = new URL("../../batch-submitter/bench/measureBatchBytes.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] });
  let stdout = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (d: string) => {
    stdout += d;
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const last = stdout.trim().split("\n").at(-1) ?? "";
  if (code !== 0 || !last.startsWith("{")) throw new Error(`batch bytes measurement exited with ${code}`);
  return JSON.parse(last) as Record<string, number>;
}

export default async function run(): Promise<Record<string, number>> {
  const out: Record<string, number> = { ...(await batchBytesFigures()) };
  let failures = 0;
  for (const n of [4, 7]) {
    const f = await measureTssNetwork({ validators: n, silent: 1, rounds: 15 });
    out[`batch_sign_ms_${n}`] = Math.round(f.signMedianMs * 10) / 10;
    out[`dkg_network_ms_${n}`] = Math.round(f.dkgMs);
    failures += f.failures;
  }
  out.batch_sign_failures = failures;
  return out;
}
