// l1_event_to_l2_ms, run by `pnpm bench l1listener` (l1listener.bench.ts): how long an L1 event takes to reach L2 on the devnet (issue #17,
// ADR 0124). 4 validator processes on a dev L1 with the devnet's settings (EDR, 1 s L1 blocks,
// confirmations 2, L1 polls every 500 ms, 2 s L2 blocks). 12 deposits, one at a time, each to a
// fresh L2 address: the clock starts when the L1 block that confirms the deposit (its block +
// confirmations) appears on EDR and stops when the first validator's RPC shows the credit (the L2
// block that includes it committed). One 50 ms loop watches both. A deposit not credited within
// 60 s counts as a failure and as 60 s in the quantiles.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "@dseq/common";
import { type Devnet, startDevnet } from "../src/devnet.ts";
import { blockNumber, rpcCall } from "../src/jsonRpc.ts";
import { quantile } from "../src/load.ts";

/** What it measures (printed by l1listener.bench.ts). */
export const eventToL2Description =
  "l1_event_to_l2_ms: L1 block confirming a deposit -> L2 block crediting it (p50 of 12, 4 validators, confirmations 2, 1 s L1 blocks)";

const DEPOSITS = 12;
const CONFIRMATIONS = 2;
const TIMEOUT_MS = 60_000;
const TICK_MS = 50;
const AMOUNT = 10n ** 18n;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const freshAddress = (): Hex =>
  `0x${[...crypto.getRandomValues(new Uint8Array(20))].map((b) => b.toString(16).padStart(2, "0")).join("")}`;

async function oneDeposit(d: Devnet): Promise<number | undefined> {
  const l1 = d.l1!;
  const v1 = d.validators[0]!;
  const to = freshAddress();
  const mined = await l1.deposit(to, AMOUNT);
  const confirming = mined + BigInt(CONFIRMATIONS);
  const began = Date.now();
  let confirmedAt: number | undefined;
  while (Date.now() - began < TIMEOUT_MS) {
    const [l1Head, credited] = await Promise.all([
      confirmedAt === undefined ? l1.blockNumber() : Promise.resolve(confirming),
      rpcCall<string>(v1.rpcUrl, "eth_getBalance", [to, "latest"], 2000).then((b) => BigInt(b) === AMOUNT),
    ]);
    const now = Date.now();
    if (confirmedAt === undefined && l1Head >= confirming) confirmedAt = now;
    if (credited) {
      // Credited before this loop saw the confirming block: the two happened within one tick.
      return confirmedAt === undefined ? 0 : now - confirmedAt;
    }
    await sleep(TICK_MS);
  }
  return undefined;
}

export async function measureEventToL2(): Promise<Record<string, number>> {
  const root = mkdtempSync(join(tmpdir(), "dseq-bench-l1bridge-"));
  let d: Devnet | undefined;
  try {
    d = await startDevnet({
      dataDir: join(root, "net"),
      validators: 4,
      followers: 0,
      loadAccounts: 1,
      readyTimeoutMs: 120_000,
      l1: { blockTimeSeconds: 1, confirmations: CONFIRMATIONS },
    });
    const v1 = d.validators[0]!;
    for (let i = 0; i < 150 && (await blockNumber(v1.rpcUrl)) < 2; i++) await sleep(1000);
    const samples: number[] = [];
    let failures = 0;
    for (let i = 0; i < DEPOSITS; i++) {
      const ms = await oneDeposit(d);
      if (ms === undefined) failures++;
      samples.push(ms ?? TIMEOUT_MS);
      console.log(`deposit ${i + 1}/${DEPOSITS}: ${ms === undefined ? "not credited" : `${ms} ms`}`);
    }
    const sorted = [...samples].sort((a, b) => a - b);
    return {
      l1_event_to_l2_ms: quantile(sorted, 0.5),
      l1_event_to_l2_ms_p90: quantile(sorted, 0.9),
      l1_event_to_l2_ms_max: sorted[sorted.length - 1] as number,
      l1_event_to_l2_deposits: DEPOSITS,
      l1_event_to_l2_failures: failures,
    };
  } finally {
    await d?.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
