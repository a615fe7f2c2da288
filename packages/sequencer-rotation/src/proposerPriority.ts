import { RotationError, RotationErrorCode } from "./errors.ts";

/**
 * CometBFT's proposer-priority algorithm (types/validator_set.go), ported with bigint so every
 * step is exact. Addresses are lower-case hex of equal length, so string order is CometBFT's
 * byte order. The README ("Proposer priority") states the algorithm step by step.
 */

/** CometBFT's `PriorityWindowSizeFactor`: priorities are rescaled to a window of 2x total power. */
export const PRIORITY_WINDOW_SIZE_FACTOR = 2n;

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
/** CometBFT's `MaxTotalVotingPower` (MaxInt64 / 8). */
export const MAX_TOTAL_VOTING_POWER = INT64_MAX / 8n;

export type PriorityValidator = {
  readonly address: string;
  readonly power: bigint;
  readonly priority: bigint;
};

/** Validators sorted by address, each with its proposer priority. Never empty. */
export type PrioritySet = {
  readonly validators: readonly PriorityValidator[];
  readonly totalPower: bigint;
};

export type PowerEntry = { readonly address: string; readonly power: bigint };

export type PriorityStep = { readonly set: PrioritySet; readonly proposer: string };

/**
 * CometBFT's `updateWithChangeSet` with the change set derived from the full next membership:
 * addresses missing from `next` are removed, new ones join at priority
 * `-(T + (T >> 3))` (about -1.125 T, T = total power after updates before removals), kept ones
 * keep their priority with their new power; then priorities are rescaled to a window of 2x the
 * new total and centred on their average.
 */
export function updatePrioritySet(prev: PrioritySet | undefined, next: readonly PowerEntry[]): PrioritySet {
  if (next.length === 0)
    throw new RotationError(RotationErrorCode.EmptySet, "a validator set cannot be empty");
  const sorted = [...next].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  for (let i = 0; i < sorted.length; i++) {
    const v = sorted[i]!;
    if (v.power <= 0n || v.power > MAX_TOTAL_VOTING_POWER) {
      throw new RotationError(RotationErrorCode.InvalidPower, "voting power out of range", {
        details: { address: v.address, power: v.power.toString() },
      });
    }
    if (i > 0 && sorted[i - 1]!.address === v.address) {
      throw new RotationError(RotationErrorCode.DuplicateValidator, "duplicate validator address", {
        details: { address: v.address },
      });
    }
  }
  const old = new Map<string, PriorityValidator>();
  for (const v of prev?.validators ?? []) old.set(v.address, v);
  let tvpAfterUpdatesBeforeRemovals = prev?.totalPower ?? 0n;
  for (const v of sorted) tvpAfterUpdatesBeforeRemovals += v.power - (old.get(v.address)?.power ?? 0n);
  const joinPriority = -(tvpAfterUpdatesBeforeRemovals + (tvpAfterUpdatesBeforeRemovals >> 3n));
  let total = 0n;
  const validators: PriorityValidator[] = sorted.map((v) => {
    total += v.power;
    return { address: v.address, power: v.power, priority: old.get(v.address)?.priority ?? joinPriority };
  });
  if (total > MAX_TOTAL_VOTING_POWER) {
    throw new RotationError(RotationErrorCode.InvalidPower, "total voting power exceeds CometBFT's maximum");
  }
  return centre(rescale({ validators, totalPower: total }));
}

/**
 * CometBFT's `NewValidatorSet`: all validators join an empty set (so all priorities are 0),
 * then one increment. The returned proposer is the set's `GetProposer()`.
 */
export function newPrioritySet(validators: readonly PowerEntry[]): PriorityStep {
  return incrementProposerPriority(updatePrioritySet(undefined, validators), 1);
}

/**
 * CometBFT's `IncrementProposerPriority(times)`: rescale to 2x total, centre on the average,
 * then `times` single steps (every priority += power; the highest priority, ties to the lower
 * address, is the proposer and pays the total power). The input is not modified.
 */
export function incrementProposerPriority(set: PrioritySet, times: number): PriorityStep {
  if (set.validators.length === 0) throw new RotationError(RotationErrorCode.EmptySet, "empty validator set");
  if (!Number.isSafeInteger(times) || times <= 0) {
    throw new RotationError(RotationErrorCode.InvalidTimes, "times must be a positive integer");
  }
  const centred = centre(rescale(set));
  const addresses = centred.validators.map((v) => v.address);
  const powers = centred.validators.map((v) => v.power);
  const priorities = centred.validators.map((v) => v.priority);
  const total = centred.totalPower;
  let proposer = 0;
  for (let t = 0; t < times; t++) {
    for (let i = 0; i < priorities.length; i++) priorities[i] = clip(priorities[i]! + powers[i]!);
    proposer = 0;
    for (let i = 1; i < priorities.length; i++) {
      // Sorted by address, so on equal priority the earlier (lower) address stays.
      if (priorities[i]! > priorities[proposer]!) proposer = i;
    }
    priorities[proposer] = clip(priorities[proposer]! - total);
  }
  return {
    set: {
      validators: addresses.map((address, i) => ({ address, power: powers[i]!, priority: priorities[i]! })),
      totalPower: total,
    },
    proposer: addresses[proposer]!,
  };
}

/** CometBFT's `RescalePriorities(2 * total)`: divide (truncating) by ceil(diff / window) if wider. */
export function rescale(set: PrioritySet): PrioritySet {
  const diffMax = PRIORITY_WINDOW_SIZE_FACTOR * set.totalPower;
  if (diffMax <= 0n || set.validators.length === 0) return set;
  let max = INT64_MIN;
  let min = INT64_MAX;
  for (const v of set.validators) {
    if (v.priority < min) min = v.priority;
    if (v.priority > max) max = v.priority;
  }
  const diff = max - min;
  if (diff <= diffMax) return set;
  const ratio = (diff + diffMax - 1n) / diffMax;
  // bigint division truncates toward zero, as Go's int64 division does.
  return {
    validators: set.validators.map((v) => ({ ...v, priority: v.priority / ratio })),
    totalPower: set.totalPower,
  };
}

/** CometBFT's `shiftByAvgProposerPriority`: subtract the floor of the mean (Go's big.Int Div). */
export function centre(set: PrioritySet): PrioritySet {
  const n = BigInt(set.validators.length);
  if (n === 0n) return set;
  let sum = 0n;
  for (const v of set.validators) sum += v.priority;
  const avg = floorDiv(sum, n);
  if (avg === 0n) return set;
  return {
    validators: set.validators.map((v) => ({ ...v, priority: clip(v.priority - avg) })),
    totalPower: set.totalPower,
  };
}

/** Euclidean division for a positive divisor, as Go's `big.Int.Div`. */
export function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

function clip(v: bigint): bigint {
  return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : v;
}
