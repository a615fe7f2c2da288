import { type Hex, isHex } from "@dseq/common";
import { RotationError, RotationErrorCode } from "./errors.ts";
import { drawWeightedIndex, spanDrawPrefix } from "./sampler.ts";
import type { SpanInfo } from "./scheduleTypes.ts";
import { seedHeightOf, spanEndHeight, spanStartHeight } from "./span.ts";
import type { Address, Validator, ValidatorSet } from "./types.ts";

/** Stake-weighted draw of one sequencer for (span, election) among `candidates` (address order). */
export function drawSpanSequencer(
  seed: Hex,
  spanIndex: number,
  election: number,
  candidates: readonly Validator[],
): Address {
  if (!isHex(seed)) throw new RotationError(RotationErrorCode.InvalidSeed, "seed must be hex");
  const prefix = spanDrawPrefix(seed, spanIndex, election);
  const i = drawWeightedIndex(
    prefix,
    candidates.map((v) => ({ address: v.address, weight: v.power })),
  );
  return candidates[i]!.address;
}

/** The seed of span `index`, which must be known by now (it is fixed one span ahead). */
export function spanSeed(seeds: ReadonlyMap<number, Hex>, index: number): Hex {
  const seed = seeds.get(index);
  if (seed === undefined)
    throw new RotationError(RotationErrorCode.Invariant, "missing span seed", { details: { index } });
  return seed;
}

/** Span `index` with validator set `set`, its sequencer drawn from the span's seed. */
export function drawSpan(
  seed: Hex,
  spanLength: number,
  index: number,
  set: ValidatorSet,
  carriedOver: boolean,
): SpanInfo {
  const startHeight = spanStartHeight(index, spanLength);
  const sequencer = drawSpanSequencer(seed, index, 0, set.validators);
  return {
    index,
    startHeight,
    endHeight: spanEndHeight(index, spanLength),
    seedHeight: seedHeightOf(index, spanLength),
    seed,
    validatorSet: set,
    carriedOver,
    elections: [{ election: 0, fromHeight: startHeight, sequencer }],
  };
}

/** Sequencers replaced earlier in the span, except the current one, in order, once each. */
export function excludedOf(span: SpanInfo): Address[] {
  const current = span.elections.at(-1)!.sequencer;
  const out: Address[] = [];
  for (const e of span.elections.slice(0, -1)) {
    if (e.sequencer !== current && !out.includes(e.sequencer)) out.push(e.sequencer);
  }
  return out;
}
