import type { Hex } from "@dseq/common";
import type { IncludedTx, PendingReceipt } from "@dseq/l2-exec";

/**
 * What this node's streamed builds (its own open block, or its build of the proposer's stream)
 * tell preconfirmations as they run (ADR 0175): each transaction included, with its receipt, and
 * each one skipped. `openBlock.ts` and `streamFollower.ts` call it; the preconf service is it.
 */
export type TxOutcomeSink = {
  included(height: number, x: IncludedTx): void;
  skipped(height: number, txHash: Hex): void;
};

/** A build's source hooks for `height`, reporting to `sink` (nothing when there is no sink). */
export function outcomeHooks(
  sink: TxOutcomeSink | undefined,
  height: number,
): { included?(x: IncludedTx): void; skipped?(s: { hash: Hex }): void } {
  if (!sink) return {};
  return {
    included: (x) => sink.included(height, x),
    skipped: (s) => sink.skipped(height, s.hash),
  };
}

/** Outcomes by height, then transaction hash: a receipt, or null for a skipped transaction. */
export type OutcomeBook = {
  set(height: number, txHash: Hex, r: PendingReceipt | null): void;
  get(height: number, txHash: Hex): PendingReceipt | null | undefined;
  /** Keeps only the `keep` highest heights. */
  trim(keep: number): void;
};

/** Most transactions remembered per height (a block holds far fewer). */
const MAX_PER_HEIGHT = 100_000;

export function createOutcomeBook(): OutcomeBook {
  const byHeight = new Map<number, Map<Hex, PendingReceipt | null>>();
  return {
    set(height, txHash, r) {
      let m = byHeight.get(height);
      if (!m) {
        m = new Map();
        byHeight.set(height, m);
      }
      if (m.size < MAX_PER_HEIGHT && !m.has(txHash)) m.set(txHash, r);
    },
    get: (height, txHash) => byHeight.get(height)?.get(txHash),
    trim(keep) {
      const heights = [...byHeight.keys()].sort((a, b) => b - a);
      for (const h of heights.slice(keep)) byHeight.delete(h);
    },
  };
}
