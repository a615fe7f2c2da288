import type { BatchTip } from "../codec/header.ts";

export type SubmitterTurnOptions = {
  /** Every account that may submit, in the same order on every node (e.g. the validator set). */
  submitters: () => readonly string[];
  /** This node's entry in `submitters`. */
  self: string;
  /** How long each submitter ahead in the order gets before the next one cuts the batch. */
  takeoverMs: number;
  now?: () => number;
};

/**
 * Whose turn it is to cut the next batch: batch `i` belongs to `submitters[i mod n]`; the one
 * after it takes over once the tip has stayed at `i - 1` for `takeoverMs` (seen locally), and so
 * on. So one node signs and sends each batch, a silent or dead one is replaced, and the inbox's
 * index check still keeps a race harmless (ADR 0155). A node outside `submitters` never cuts.
 */
export function submitterTurn(o: SubmitterTurnOptions): (tip: Pick<BatchTip, "batchIndex">) => boolean {
  const now = o.now ?? Date.now;
  let seen: { index: bigint; at: number } | undefined;
  return (tip) => {
    const list = o.submitters().map((s) => s.toLowerCase());
    const me = list.indexOf(o.self.toLowerCase());
    if (me < 0) return false;
    if (seen?.index !== tip.batchIndex) seen = { index: tip.batchIndex, at: now() };
    const n = BigInt(list.length);
    const rank = Number((BigInt(me) - ((tip.batchIndex + 1n) % n) + n) % n);
    return now() - seen.at >= rank * o.takeoverMs;
  };
}
