import { type Hex, hexToBytes } from "@dseq/common";
import { decodeBlockExtra } from "@dseq/node";
import { getBlock, type RpcBlock } from "./jsonRpc.ts";

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
   * preconfirmed, and the median time from their preconfirmation to this block being seen.
   */
  preconf?: { txs: number; aheadMs: number };
};

/** When each transaction was first seen in a preconfirmation (bounded; oldest forgotten first). */
export type PreconfTracker = {
  seen(hashes: readonly Hex[], atMs: number): void;
  /** The block's preconfirmed transactions and how far ahead of `blockSeenMs` they were. */
  forBlock(hashes: readonly Hex[], blockSeenMs: number): { txs: number; aheadMs: number } | undefined;
};

export function createPreconfTracker(max = 100_000): PreconfTracker {
  const at = new Map<Hex, number>();
  return {
    seen(hashes, atMs) {
      for (const h of hashes) {
        if (at.has(h)) continue;
        at.set(h, atMs);
        if (at.size > max) at.delete(at.keys().next().value as Hex);
      }
    },
    forBlock(hashes, blockSeenMs) {
      const ahead: number[] = [];
      for (const h of hashes) {
        const t = at.get(h);
        if (t === undefined) continue;
        at.delete(h);
        ahead.push(blockSeenMs - t);
      }
      if (ahead.length === 0) return undefined;
      ahead.sort((a, b) => a - b);
      return { txs: ahead.length, aheadMs: ahead[Math.floor((ahead.length - 1) / 2)] as number };
    },
  };
}

/** The block line's preconfirmation part ("" without one). */
export function preconfPart(line: BlockLine): string {
  return line.preconf
    ? `  preconf ${line.preconf.txs} (${(line.preconf.aheadMs / 1000).toFixed(2)} s ahead)`
    : "";
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
): { preconf?: { txs: number; aheadMs: number } } {
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
            onBlock(blockToLine(b, parentTs, tracker ? { tracker, seenMs: Date.now() } : undefined));
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
