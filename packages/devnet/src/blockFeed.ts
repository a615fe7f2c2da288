import { type Hex, hexToBytes } from "@dseq/common";
import { decodeBlockExtra } from "@dseq/node";
import { getBlock, type RpcBlock } from "./jsonRpc.ts";
import { subscribePendingTxs, subscribePreconfirmations } from "./load.ts";

export type BlockLine = {
  height: number;
  hash: Hex;
  txs: number;
  /** The builder from extraData (undefined if the block carries no dseq extra, e.g. genesis). */
  proposer: Hex | undefined;
  round: number | undefined;
  timestamp: number;
  /** Seconds since the parent block (header timestamps). */
  spacingS: number | undefined;
  /**
   * Preconfirmations of this block's transactions (with a preconf tracker): how many were
   * preconfirmed, the median time from their preconfirmation to this block being seen, and the
   * median preconfirmation latency (pool admission on the watched node -> preconfirmation) of
   * those whose admission was seen.
   */
  preconf?: PreconfOfBlock;
};

export type PreconfOfBlock = { txs: number; aheadMs: number; latencyMs?: number };

/** When each transaction was first seen in a preconfirmation (bounded; oldest forgotten first). */
export type PreconfTracker = {
  seen(hashes: readonly Hex[], atMs: number): void;
  /** A transaction admitted to the watched node's pool (`newPendingTransactions`). */
  arrived(hash: Hex, atMs: number): void;
  /** The block's preconfirmed transactions and how far ahead of `blockSeenMs` they were. */
  forBlock(hashes: readonly Hex[], blockSeenMs: number): PreconfOfBlock | undefined;
};

const median = (xs: number[]): number => {
  xs.sort((a, b) => a - b);
  return xs[Math.floor((xs.length - 1) / 2)] as number;
};

/** Keeps the first time of each key, forgetting the oldest past `max`. */
function firstTimes(max: number): Map<Hex, number> & { note(h: Hex, at: number): void } {
  const m = new Map<Hex, number>() as Map<Hex, number> & { note(h: Hex, at: number): void };
  m.note = (h, at) => {
    if (m.has(h)) return;
    m.set(h, at);
    if (m.size > max) m.delete(m.keys().next().value as Hex);
  };
  return m;
}

export function createPreconfTracker(max = 100_000): PreconfTracker {
  const at = firstTimes(max);
  const arrival = firstTimes(max);
  return {
    seen(hashes, atMs) {
      for (const h of hashes) at.note(h.toLowerCase() as Hex, atMs);
    },
    arrived(hash, atMs) {
      arrival.note(hash.toLowerCase() as Hex, atMs);
    },
    forBlock(hashes, blockSeenMs) {
      const ahead: number[] = [];
      const latency: number[] = [];
      for (const hash of hashes) {
        const h = hash.toLowerCase() as Hex;
        const t = at.get(h);
        const a = arrival.get(h);
        arrival.delete(h);
        if (t === undefined) continue;
        at.delete(h);
        ahead.push(blockSeenMs - t);
        if (a !== undefined && a <= t) latency.push(t - a);
      }
      if (ahead.length === 0) return undefined;
      const out: PreconfOfBlock = { txs: ahead.length, aheadMs: median(ahead) };
      if (latency.length > 0) out.latencyMs = median(latency);
      return out;
    },
  };
}

/** The block line's preconfirmation part ("" without one). */
export function preconfPart(line: BlockLine): string {
  const p = line.preconf;
  if (!p) return "";
  const latency = p.latencyMs === undefined ? "" : ` in ${Math.round(p.latencyMs)} ms`;
  return `  preconf ${p.txs}${latency} (${(p.aheadMs / 1000).toFixed(2)} s ahead)`;
}

export function blockToLine(
  block: RpcBlock,
  parentTimestamp: number | undefined,
  preconf?: { tracker: PreconfTracker; seenMs: number },
): BlockLine {
  let proposer: Hex | undefined;
  let round: number | undefined;
  try {
    const extra = decodeBlockExtra(hexToBytes(block.extraData as Hex));
    proposer = extra.proposer;
    round = extra.round;
  } catch {
    // genesis and foreign blocks have no dseq extra
  }
  const timestamp = Number(block.timestamp);
  return {
    height: Number(block.number),
    hash: block.hash as Hex,
    txs: block.transactions.length,
    proposer,
    round,
    timestamp,
    spacingS: parentTimestamp === undefined ? undefined : timestamp - parentTimestamp,
    ...preconfOf(block, preconf),
  };
}

function preconfOf(
  block: RpcBlock,
  p: { tracker: PreconfTracker; seenMs: number } | undefined,
): { preconf?: PreconfOfBlock } {
  if (!p) return {};
  const hashes = block.transactions.map(
    (t) => (typeof t === "string" ? t : (t as { hash: string }).hash) as Hex,
  );
  const got = p.tracker.forBlock(hashes, p.seenMs);
  return got ? { preconf: got } : {};
}

/**
 * Follows the chain head by polling, failing over between `urls` when a node is down, and
 * calls `onBlock` once per height in order. Returns a stop function.
 */
export function followBlocks(
  urls: () => string[],
  onBlock: (line: BlockLine) => void,
  opts: { pollMs?: number; fromHeight?: number; preconf?: PreconfTracker } = {},
): () => void {
  let stopped = false;
  let next = opts.fromHeight;
  let parentTs: number | undefined;
  let idx = 0;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      const list = urls();
      const url = list[idx % Math.max(1, list.length)];
      if (url !== undefined) {
        try {
          if (next === undefined) {
            const head = await getBlock(url, "latest", 2000);
            if (head) {
              next = Number(head.number) + 1;
              parentTs = Number(head.timestamp);
            }
          }
          while (!stopped && next !== undefined) {
            const b = await getBlock(url, next, 2000);
            if (!b) break;
            const tracker = opts.preconf;
            onBlock(blockToLine(b, parentTs, tracker ? { tracker, seenMs: performance.now() } : undefined));
            parentTs = Number(b.timestamp);
            next++;
          }
        } catch {
          idx++;
        }
      }
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
    }
  };
  void loop();
  return () => {
    stopped = true;
  };
}

/**
 * A tracker fed by one node's WebSocket: its preconfirmations and its pool admissions (the
 * send time, as near as the CLI can see it). Without a URL, or once that node is gone, the
 * block lines go on without the preconfirmation part.
 */
export function watchPreconfirmations(wsUrl: string | undefined): { tracker: PreconfTracker; close(): void } {
  const tracker = createPreconfTracker();
  if (wsUrl === undefined) return { tracker, close() {} };
  const pre = subscribePreconfirmations(wsUrl, (hashes, at) => tracker.seen(hashes, at));
  const pending = subscribePendingTxs(wsUrl, (hash, at) => tracker.arrived(hash, at));
  return {
    tracker,
    close() {
      pre.close();
      pending.close();
    },
  };
}
