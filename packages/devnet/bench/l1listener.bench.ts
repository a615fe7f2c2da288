// `pnpm bench l1listener` (issue #17): both L1 listener figures in one run (ADR 0124).
// - l1_poll_logs_per_s: a fresh listener over 10,000 deposits on EDR, the listener package's
//   own measurement (packages/l1-bridge-listener/bench/pollLogs.ts, run in its own process:
//   the devnet does not import the listener's bench code across the package boundary);
// - l1_event_to_l2_ms: from the L1 block that confirms a deposit to the L2 block that credits
//   it, on a 4-validator devnet (l1EventToL2.ts). It needs nodes, so the suite lives here.
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { eventToL2Description, measureEventToL2 } from "./l1EventToL2.ts";

const POLL_LOGS = resolve(import.meta.dirname, "..", "..", "l1-bridge-listener", "bench", "pollLogs.ts");

export const description = `l1_poll_logs_per_s (fresh listener over 10,000 deposits on EDR); ${eventToL2Description}`;

async function pollLogs(): Promise<Record<string, number>> {
  const { stdout } = await promisify(execFile)(process.execPath, [POLL_LOGS], {
    maxBuffer: 16 * 1024 * 1024,
  });
  const last = stdout.trim().split("\n").at(-1) ?? "{}";
  return JSON.parse(last) as Record<string, number>;
}

export default async function run(): Promise<Record<string, number>> {
  const poll = await pollLogs();
  console.log(`l1_poll_logs_per_s ${poll.l1_poll_logs_per_s}`);
  const toL2 = await measureEventToL2();
  return { ...poll, ...toL2 };
}
