import { drawSpanSequencer, excludedOf } from "./drawSpan.ts";
import type { Reelection, SpanInfo } from "./scheduleTypes.ts";
import type { Address, CommittedBlock } from "./types.ts";

export type MissState = { readonly span: SpanInfo; readonly missStreak: number };

/**
 * Counts heights whose committed block is not the span sequencer's (its round-0 proposal was
 * not what got committed) and re-elects after `reelectAfterMisses` in a row. `sequencer` is the
 * span's sequencer at `block.height`. Returns the new streak and span, and the re-election.
 */
export function trackMiss(
  state: MissState,
  reelectAfterMisses: number,
  sequencer: Address,
  block: CommittedBlock,
): MissState & { reelection?: Reelection } {
  const { span } = state;
  // The sequencer's own block was committed (in round 0, or later after a re-proposal).
  if (block.proposer === sequencer) return { span, missStreak: 0 };
  const missStreak = state.missStreak + 1;
  if (missStreak < reelectAfterMisses || block.height >= span.endHeight) return { span, missStreak };
  const replaced = sequencer;
  const excluded = new Set([...excludedOf(span), replaced]);
  const validators = span.validatorSet.validators;
  let candidates = validators.filter((v) => !excluded.has(v.address));
  // Everyone else was replaced earlier in this span: only the failing sequencer is skipped
  // (an earlier one may be back). With nobody at all (one validator) it keeps the span.
  if (candidates.length === 0) candidates = validators.filter((v) => v.address !== replaced);
  if (candidates.length === 0) return { span, missStreak: 0 };
  const election = span.elections.length;
  const next = drawSpanSequencer(span.seed, span.index, election, candidates);
  const fromHeight = block.height + 1;
  return {
    missStreak: 0,
    span: { ...span, elections: [...span.elections, { election, fromHeight, sequencer: next }] },
    reelection: { span: span.index, atHeight: block.height, replaced, sequencer: next, election, fromHeight },
  };
}
