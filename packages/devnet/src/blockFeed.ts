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
};

export function blockToLine(block: RpcBlock, parentTimestamp: number | undefined): BlockLine {
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
  };
}

/**
 * Follows the chain head by polling, failing over between `urls` when a node is down, and
 * calls `onBlock` once per height in order. Returns a stop function.
 */
export function followBlocks(
  urls: () => string[],
  onBlock: (line: BlockLine) => void,
  opts: { pollMs?: number; fromHeight?: number } = {},
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
            onBlock(blockToLine(b, parentTs));
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
