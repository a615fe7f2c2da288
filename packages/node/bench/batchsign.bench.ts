/**
 * `pnpm bench batchsign`: the node's TSS over real libp2p hosts on 127.0.0.1 (all in this
 * process, so every member's CPU work shares the 2 cores): the DKG of 4 and 7 validators, and
 * one batch digest signed by the group with one signer silent (median of 15 rounds).
 */
import { measureTssNetwork } from "../src/tss/measureTssNetwork.ts";

export const description =
  "TssService over real p2p hosts on 127.0.0.1 in one process: DKG (slowest member) and batch signing with one signer silent, median of 15";

export default async function run(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
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
