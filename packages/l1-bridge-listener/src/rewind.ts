import { L1ListenerError, L1ListenerErrorCode } from "./errors.ts";
import type { ListenerState, StoredBlock } from "./listenerState.ts";

/** What a rewind removed: blocks whose events the listener had already emitted as confirmed. */
export type L1Reorg = {
  /** The highest remembered block still canonical: reading resumes after it. */
  readonly ancestor: { readonly number: bigint; readonly hash: `0x${string}` };
  /** Remembered blocks that left the canonical chain, ascending. */
  readonly removed: readonly { readonly number: bigint; readonly hash: `0x${string}` }[];
  /** Seqs of the already emitted events those blocks held: `fromSeq <= seq < toSeq` (empty when equal). */
  readonly forgotten: { readonly fromSeq: number; readonly toSeq: number };
};

/**
 * Candidates for the common ancestor, newest first: the driver asks the L1 for the canonical
 * hash at each number until one matches (`rewindTo`) or none is left (the reorg is deeper than
 * what the listener remembers: `ReorgTooDeep`).
 */
export function walkBackCandidates(state: ListenerState): readonly StoredBlock[] {
  return [...state.recent].reverse();
}

/**
 * Rewinds the state to the remembered block `ancestor` (by number; it must be in `recent`):
 * later blocks are forgotten and their amount changes undone, newest first. `nextSeq` stays.
 */
export function rewindTo(
  state: ListenerState,
  ancestorNumber: bigint,
): { state: ListenerState; reorg: L1Reorg } {
  const i = state.recent.findIndex((b) => b.number === ancestorNumber);
  const ancestor = state.recent[i];
  if (!ancestor) {
    throw new L1ListenerError(L1ListenerErrorCode.ReorgTooDeep, "ancestor is not a remembered block", {
      details: { ancestorNumber },
    });
  }
  const removed = state.recent.slice(i + 1);
  const amounts = new Map(state.amounts);
  for (const block of [...removed].reverse()) {
    for (const [id, previous] of [...block.undo].reverse()) {
      if (previous === undefined) amounts.delete(id);
      else amounts.set(id, previous);
    }
  }
  const withEvents = removed.filter((b) => b.seqTo > b.seqFrom);
  const fromSeq = withEvents[0]?.seqFrom ?? state.nextSeq;
  return {
    state: { recent: state.recent.slice(0, i + 1), amounts, nextSeq: state.nextSeq },
    reorg: {
      ancestor: { number: ancestor.number, hash: ancestor.hash },
      removed: removed.map((b) => ({ number: b.number, hash: b.hash })),
      forgotten: { fromSeq, toSeq: state.nextSeq },
    },
  };
}
