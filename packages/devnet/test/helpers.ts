import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import type { Hex } from "@dseq/common";
import { type DevnetNode, DSEQ_BIN } from "../src/devnet.ts";
import { blockNumber, rpcBatch, rpcCall } from "../src/jsonRpc.ts";

/**
 * Whether the e2e tests can run: the node CLI has `start` (they skip, not fail, until it
 * does), and DSEQ_DEVNET_E2E is not "0" (an opt-out for quick local runs: they take minutes).
 */
export function dseqStartAvailable(): boolean {
  if (process.env.DSEQ_DEVNET_E2E === "0") return false;
  const r = spawnSync(process.execPath, [process.env.DSEQ_DEVNET_BIN ?? DSEQ_BIN, "--help"], {
    encoding: "utf8",
    timeout: 30_000,
  });
  return /dseq start\b/.test(`${r.stdout}${r.stderr}`);
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs: number,
  everyMs = 200,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > end) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${String(lastErr)})` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function headOf(node: DevnetNode): Promise<number> {
  return blockNumber(node.rpcUrl, 2000);
}

/** Block hashes of heights [from, to] on one node (JSON-RPC batches). */
export async function hashesOf(node: DevnetNode, from: number, to: number): Promise<Hex[]> {
  const out: Hex[] = [];
  for (let h = from; h <= to; h += 100) {
    const calls = [];
    for (let k = h; k <= Math.min(to, h + 99); k++) {
      calls.push({ method: "eth_getBlockByNumber", params: [`0x${k.toString(16)}`, false] });
    }
    const res = await rpcBatch(node.rpcUrl, calls, 20_000);
    for (const r of res) {
      if (r.error || !r.result)
        throw new Error(`${node.name}: block missing (${r.error?.message ?? "null"})`);
      out.push((r.result as { hash: Hex }).hash);
    }
  }
  return out;
}

/** Heights in [0, to] where some node disagrees with the first (empty = no fork). */
export async function forkHeights(nodes: DevnetNode[], to: number): Promise<number[]> {
  const all = await Promise.all(nodes.map((n) => hashesOf(n, 0, to)));
  const ref = all[0] as Hex[];
  const bad: number[] = [];
  for (let h = 0; h <= to; h++) if (all.some((hs) => hs[h] !== ref[h])) bad.push(h);
  return bad;
}

export type CommitLine = {
  height: number;
  hash: string;
  round: number;
  proposer: string;
  txs: number;
  time: number;
};
// pino `time` may be epoch ms or an ISO string depending on the logger setup
function timeMs(t: unknown): number {
  return typeof t === "number" ? t : Date.parse(String(t));
}

/** The node's `block committed` log lines (pino JSON: time in ms). */
export function commitLines(node: DevnetNode): CommitLine[] {
  if (!existsSync(node.logPath)) return [];
  const out: CommitLine[] = [];
  for (const line of readFileSync(node.logPath, "utf8").split("\n")) {
    if (!line.includes('"block committed"')) continue;
    try {
      const j = JSON.parse(line) as CommitLine & { msg: string };
      if (j.msg === "block committed") out.push({ ...j, time: timeMs(j.time) });
    } catch {
      // a line cut by SIGKILL
    }
  }
  return out;
}

/** Log lines (any level) matching `re`, for evidence of double signing. */
export function logLinesMatching(node: DevnetNode, re: RegExp): string[] {
  if (!existsSync(node.logPath)) return [];
  return readFileSync(node.logPath, "utf8")
    .split("\n")
    .filter((l) => re.test(l));
}

export async function currentSequencer(
  node: DevnetNode,
): Promise<{ sequencer: Hex; height: number; missStreak?: number }> {
  return rpcCall(node.rpcUrl, "dseq_currentSequencer", [], 2000);
}

export async function health(node: DevnetNode): Promise<Record<string, unknown>> {
  const res = await fetch(`${node.adminUrl}/health`, { signal: AbortSignal.timeout(2000) });
  return (await res.json()) as Record<string, unknown>;
}

export async function metricsText(node: DevnetNode): Promise<string> {
  const res = await fetch(`${node.adminUrl}/metrics`, { signal: AbortSignal.timeout(2000) });
  return res.text();
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
