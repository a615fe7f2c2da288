// The honest load measurement of the devnet benchmarks (issue #22). src/load.ts's runLoad is
// another helper's file and reports counts over "sending window + drain": this one keeps the
// send and commit time of every transaction, so a report can say
// - committedTps: what committed inside the window it divides by: whole blocks committed
//   between `graceMs` into sending and the last send, over the time between them
//   (`steadyCommitRate`); sendWindowTps is the first method (commits before the last send over
//   the whole sending window), printed beside it;
// - withinGrace: the share of what was sent that committed within `graceMs` (5 s) of sending;
// - latency quantiles over every sent transaction, one never committed (or later than the
//   timeout) counting as `timeoutMs`;
// - pool samples during sending, to tell a chain that keeps up from a growing backlog.
import { errorMessage, type Hex } from "@dseq/common";
import { blockNumber, getBlock, rpcBatch } from "../src/jsonRpc.ts";
import { quantile, signTransfers } from "../src/load.ts";

export type HonestLoadOptions = {
  rpcUrls: string[];
  accounts: { address: Hex; privateKey: Hex }[];
  chainId: number;
  tps: number;
  durationMs: number;
  /** A transaction counts as on time when it committed within this long of sending (5 s). */
  graceMs?: number;
  /** Latency given to a transaction not committed by then (and the wait after sending). */
  timeoutMs?: number;
  /** Confirmed = the newHeads notification of its block arrived here. */
  headsWsUrl?: string;
  /** Sampled every `poolEveryMs` while sending: the largest pool over the nodes. */
  poolSize?: () => Promise<number>;
  poolEveryMs?: number;
};

export type HonestLoadReport = {
  tps: number;
  sent: number;
  accepted: number;
  rejected: number;
  windowMs: number;
  committedInWindow: number;
  /**
   * Steady-state commit rate (ADR 0163, amended 2026-12-05): this load's transactions in the
   * blocks committed after the first block at or past `graceMs` into sending, up to the last
   * block committed before the last send, divided by the time between those two blocks' commits.
   */
  committedTps: number;
  /** The same blocks' window in ms (0 when fewer than two blocks fell inside it). */
  steadyWindowMs: number;
  /** The first method: commits inside the sending window divided by the whole window. */
  sendWindowTps: number;
  committedTotal: number;
  withinGrace: number;
  /** withinGrace / sent. */
  onTimeShare: number;
  confirmP50Ms: number;
  confirmP99Ms: number;
  /**
   * Send -> JSON-RPC reply of the batch holding the transaction (the node admitted it and its
   * gossip reached a peer), ms: where the confirm latency goes before the block.
   */
  replyP50Ms: number;
  replyP99Ms: number;
  pool: { atMs: number; size: number }[];
  /** Mean pool over the last 4 s of sending minus the mean over the 4 s before the middle. */
  poolGrowth: number;
  errors: Record<string, number>;
};

const MAX_BATCH = 100;
const TICK_MS = 20;

export async function runHonestLoad(o: HonestLoadOptions): Promise<HonestLoadReport> {
  const graceMs = o.graceMs ?? 5_000;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const total = Math.max(1, Math.round((o.tps * o.durationMs) / 1000));
  const url0 = o.rpcUrls[0] as string;
  const nonces: number[] = [];
  for (let i = 0; i < o.accounts.length; i += MAX_BATCH) {
    const chunk = o.accounts.slice(i, i + MAX_BATCH);
    const res = await rpcBatch(
      url0,
      chunk.map((a) => ({ method: "eth_getTransactionCount", params: [a.address, "pending"] })),
    );
    for (const r of res) {
      if (r.error) throw new Error(`eth_getTransactionCount: ${r.error.message}`);
      nonces.push(Number(r.result));
    }
  }
  const txs = signTransfers(o, nonces, total);
  const sentAt = new Map<Hex, number>();
  const committedAt = new Map<Hex, number>();
  const accepted = new Set<Hex>();
  const replyMs: number[] = [];
  const errors: Record<string, number> = {};
  let rejected = 0;

  // inclusions: poll heads, time each block by its newHeads notification when one came
  const announced = new Map<number, number>();
  /** Commit time and this load's transaction count of every block seen while watching. */
  const blocks: CommittedBlock[] = [];
  let ws: WebSocket | undefined;
  if (o.headsWsUrl) {
    ws = new WebSocket(o.headsWsUrl);
    ws.addEventListener("open", () =>
      ws?.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] })),
    );
    ws.addEventListener("message", (ev) => {
      const at = performance.now();
      try {
        const m = JSON.parse(String(ev.data)) as {
          method?: string;
          params?: { result?: { number?: string } };
        };
        const n = m.method === "eth_subscription" ? m.params?.result?.number : undefined;
        if (n !== undefined) announced.set(Number(n), at);
      } catch {
        // the poller still sees the block
      }
    });
    ws.addEventListener("error", () => {});
  }
  let seen = await blockNumber(url0);
  let watching = true;
  let watchIdx = 0;
  const watcher = (async () => {
    while (watching) {
      const url = o.rpcUrls[watchIdx % o.rpcUrls.length] as string;
      try {
        const head = await blockNumber(url, 2000);
        while (seen < head) {
          const b = await getBlock(url, seen + 1, 5000);
          if (!b) break;
          const at = announced.get(seen + 1) ?? performance.now();
          announced.delete(seen + 1);
          let ours = 0;
          for (const h of b.transactions as Hex[])
            if (sentAt.has(h) && !committedAt.has(h)) {
              committedAt.set(h, at);
              ours++;
            }
          blocks.push({ at, txs: ours });
          seen++;
        }
      } catch {
        watchIdx++;
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();

  const inflight = new Set<Promise<void>>();
  const send = async (u: number, batch: typeof txs): Promise<void> => {
    const url = o.rpcUrls[u % o.rpcUrls.length] as string;
    try {
      const res = await rpcBatch(
        url,
        batch.map((t) => ({ method: "eth_sendRawTransaction", params: [t.raw] })),
      );
      const at = performance.now();
      for (const t of batch) replyMs.push(at - (sentAt.get(t.hash) ?? at));
      for (const [i, r] of res.entries()) {
        const t = batch[i] as (typeof txs)[number];
        if (r.error === undefined || /already known/i.test(r.error.message)) accepted.add(t.hash);
        else {
          rejected++;
          errors[r.error.message] = (errors[r.error.message] ?? 0) + 1;
        }
      }
    } catch (err) {
      const m = `transport: ${errorMessage(err)}`;
      errors[m] = (errors[m] ?? 0) + batch.length;
      rejected += batch.length;
    }
  };

  const pool: { atMs: number; size: number }[] = [];
  const start = performance.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling && o.poolSize) {
      const size = await o.poolSize().catch(() => Number.NaN);
      pool.push({ atMs: performance.now() - start, size });
      await new Promise((r) => setTimeout(r, o.poolEveryMs ?? 500));
    }
  })();
  let sent = 0;
  let rr = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * o.tps) / 1000) + 1);
    const per = new Map<number, typeof txs>();
    for (; sent < due; sent++) {
      const t = txs[sent] as (typeof txs)[number];
      const u = rr++ % o.rpcUrls.length;
      per.set(u, [...(per.get(u) ?? []), t]);
      sentAt.set(t.hash, performance.now());
    }
    for (const [u, list] of per) {
      for (let i = 0; i < list.length; i += MAX_BATCH) {
        const p = send(u, list.slice(i, i + MAX_BATCH)).finally(() => inflight.delete(p));
        inflight.add(p);
      }
    }
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  const sendEnd = performance.now();
  sampling = false;
  await Promise.all(inflight);
  await sampler;
  // wait until every accepted one committed, or the timeout after the last send
  while (performance.now() < sendEnd + timeoutMs && [...accepted].some((h) => !committedAt.has(h))) {
    await new Promise((r) => setTimeout(r, 50));
  }
  watching = false;
  await watcher;
  ws?.close();

  let inWindow = 0;
  let onTime = 0;
  const lat: number[] = [];
  for (const [h, s] of sentAt) {
    const c = committedAt.get(h);
    if (c !== undefined && c <= sendEnd) inWindow++;
    if (c !== undefined && c - s <= graceMs) onTime++;
    lat.push(c === undefined ? timeoutMs : Math.min(timeoutMs, c - s));
  }
  lat.sort((a, b) => a - b);
  replyMs.sort((a, b) => a - b);
  const windowMs = sendEnd - start;
  const steady = steadyCommitRate(blocks, start + graceMs, sendEnd);
  return {
    tps: o.tps,
    sent,
    accepted: accepted.size,
    rejected,
    windowMs,
    committedInWindow: inWindow,
    committedTps: steady.tps,
    steadyWindowMs: steady.windowMs,
    sendWindowTps: inWindow / (windowMs / 1000),
    committedTotal: committedAt.size,
    withinGrace: onTime,
    onTimeShare: sent > 0 ? onTime / sent : 0,
    confirmP50Ms: quantile(lat, 0.5),
    confirmP99Ms: quantile(lat, 0.99),
    replyP50Ms: quantile(replyMs, 0.5),
    replyP99Ms: quantile(replyMs, 0.99),
    pool,
    poolGrowth: poolGrowth(pool, windowMs),
    errors,
  };
}

/**
 * How much the pool grew over half the sending window: the least-squares slope of its size
 * against time, over every sample after the first 4 s (the ramp from empty), times half the
 * window. Every sample counts, so the 2 s sawtooth of a chain that keeps up (0 to a block's
 * worth) averages out; comparing two 4 s means (eight samples each) did not, and flagged a
 * chain that kept up at 200 tx/s (ADR 0163, amended). 0 with fewer than 4 samples.
 */
export function poolGrowth(pool: { atMs: number; size: number }[], windowMs: number): number {
  const xs = pool.filter((p) => p.atMs >= 4_000 && p.atMs <= windowMs + 1 && Number.isFinite(p.size));
  if (xs.length < 4) return 0;
  const mt = xs.reduce((a, p) => a + p.atMs, 0) / xs.length;
  const ms = xs.reduce((a, p) => a + p.size, 0) / xs.length;
  let num = 0;
  let den = 0;
  for (const p of xs) {
    num += (p.atMs - mt) * (p.size - ms);
    den += (p.atMs - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * (windowMs / 2);
}

export type CommittedBlock = { at: number; txs: number };

/**
 * Commits per second at steady state: the blocks committed in `(a, b]`, where `a` is the first
 * block committed at or after `fromMs` and `b` the last committed at or before `toMs`, divided
 * by the time from `a` to `b`. Block-aligned, so the window holds whole blocks (a 2 s block
 * more or less in a fixed 20 s window moved the old figure by a tenth); starting after the
 * pipeline filled, so the send-to-commit latency of the first and last transactions is not
 * counted as lost throughput; ending at the last send, so nothing drained afterwards counts.
 */
export function steadyCommitRate(
  blocks: readonly CommittedBlock[],
  fromMs: number,
  toMs: number,
): { tps: number; windowMs: number } {
  const inside = blocks.filter((b) => b.at >= fromMs && b.at <= toMs);
  const first = inside[0];
  const last = inside[inside.length - 1];
  if (first === undefined || last === undefined || last.at <= first.at) return { tps: 0, windowMs: 0 };
  let txs = 0;
  for (const b of inside.slice(1)) txs += b.txs;
  return { tps: txs / ((last.at - first.at) / 1000), windowMs: last.at - first.at };
}

/**
 * Sustained (issue #22): at least 99 % of what was sent committed within 5 s of sending, and
 * the pool did not grow (by more than half a second of the offered rate, so the 2 s sawtooth
 * of a chain that keeps up does not count).
 */
export function isSustained(r: HonestLoadReport): boolean {
  return r.onTimeShare >= 0.99 && r.poolGrowth <= Math.max(25, r.tps * 0.5);
}
