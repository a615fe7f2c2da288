import type { Hex } from "@dseq/common";

/**
 * The prevote rule of ADR 0172: a proposal of the proposer that preconfirmed `preconfirmed`
 * (its fragments' transactions, in order) must start with them, in that order. A preconfirmed
 * transaction may be missing only when `skipped` says the stream's own execution left it out
 * (no receipt was ever promised for it); "unknown" (this node did not execute the stream)
 * checks the order only, never drops. Returns why the proposal breaks the promise, or
 * undefined when it keeps it.
 */
export function preconfViolation(
  preconfirmed: readonly Hex[],
  proposal: readonly Hex[],
  skipped: ReadonlySet<Hex> | "unknown" = new Set(),
): string | undefined {
  const inProposal = new Map<Hex, number>();
  proposal.forEach((h, i) => {
    if (!inProposal.has(h)) inProposal.set(h, i);
  });
  let next = 0;
  for (const h of preconfirmed) {
    const at = inProposal.get(h);
    if (at === undefined) {
      if (skipped === "unknown" || skipped.has(h)) continue;
      return `drops preconfirmed transaction ${h}`;
    }
    if (at !== next) return `preconfirmed transaction ${h} is at ${at}, promised at ${next}`;
    next++;
  }
  return undefined;
}
