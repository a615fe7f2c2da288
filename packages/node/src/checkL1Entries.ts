import { decodeBlockEntries, type L2Entry, sameEntry, type WithdrawalView } from "./l1Entries.ts";

/** What checking a block's entries reads: the chain's next index and this validator's own L1 view. */
export type L1EntriesView = {
  /** Index after the parent's last entry. */
  next: bigint;
  /**
   * This validator's confirmed entry of `index` (its own listener, `confirmations` deep);
   * undefined when its L1 view has not confirmed that far. Undefined view: the node runs without L1.
   */
  confirmed?(index: bigint): L2Entry | undefined;
};

export type L1EntriesCheck =
  | { ok: true; entries: L2Entry[] }
  /** `wrong`: differs from what this validator knows; `unverifiable`: beyond its L1 view. */
  | { ok: false; verdict: "wrong" | "unverifiable"; reason: string; index?: bigint };

/** Most entries one block may carry; the proposer takes at most this many. */
export const MAX_ENTRIES_PER_BLOCK = 64;

/**
 * A block's L1 entries against the chain and this validator's own L1 view (ADR 0120): decoded
 * strictly, numbered densely from `next`, each equal to the validator's confirmed entry of its
 * index. Pure: the same block, chain and view give the same answer.
 */
export function checkL1Entries(
  withdrawals: readonly WithdrawalView[] | undefined,
  view: L1EntriesView,
): L1EntriesCheck {
  const d = decodeBlockEntries(withdrawals);
  if (!d.ok) return { ok: false, verdict: "wrong", reason: `malformed L1 entries: ${d.reason}` };
  const entries = d.entries;
  if (entries.length === 0) return { ok: true, entries };
  if (entries.length > MAX_ENTRIES_PER_BLOCK) {
    return {
      ok: false,
      verdict: "wrong",
      reason: `${entries.length} L1 entries, over ${MAX_ENTRIES_PER_BLOCK}`,
    };
  }
  if (view.confirmed === undefined)
    return { ok: false, verdict: "wrong", reason: "this node takes no L1 entries" };
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    const want = view.next + BigInt(k);
    if (e.index !== want) {
      return {
        ok: false,
        verdict: "wrong",
        reason: `L1 entry index ${e.index}, expected ${want}`,
        index: e.index,
      };
    }
  }
  for (const e of entries) {
    const mine = view.confirmed(e.index);
    if (mine === undefined) {
      return {
        ok: false,
        verdict: "unverifiable",
        reason: `L1 entry ${e.index} is not confirmed on this node's L1 view yet`,
        index: e.index,
      };
    }
    if (!sameEntry(mine, e)) {
      return {
        ok: false,
        verdict: "wrong",
        reason: `L1 entry ${e.index} differs from this node's L1`,
        index: e.index,
      };
    }
  }
  return { ok: true, entries };
}
