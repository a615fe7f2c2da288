import { compareAddresses } from "./address.ts";
import type { StakeRegistry } from "./applyStakeChange.ts";
import type { RotationParams } from "./params.ts";
import type { StakeRecord, Validator, ValidatorSet } from "./types.ts";

/** Voting power of a locked amount: whole tokens of `min(locked, maxLock)`; 0 below `minLock`. */
export function votingPower(locked: bigint, params: RotationParams): bigint {
  if (locked < params.minLock) return 0n;
  return cappedStake(locked, params) / 10n ** BigInt(params.decimals);
}

export function cappedStake(locked: bigint, params: RotationParams): bigint {
  return locked < params.maxLock ? locked : params.maxLock;
}

/**
 * The validator set of stake records: `active` records with at least `minLock` locked, power in
 * whole tokens capped at `maxLock`, ordered by signer address.
 */
export function validatorSetFromStake(
  records: StakeRegistry | readonly StakeRecord[],
  params: RotationParams,
): ValidatorSet {
  // Arrays and maps both iterate their records through values().
  const list: Iterable<StakeRecord> = records.values();
  const validators: Validator[] = [];
  for (const r of list) {
    if (r.status !== "active") continue;
    const power = votingPower(r.locked, params);
    if (power <= 0n) continue;
    validators.push({
      id: r.id,
      address: r.signer,
      publicKey: r.signerPubkey,
      power,
      cappedStake: cappedStake(r.locked, params),
      rewardRecipient: r.rewardRecipient,
    });
  }
  validators.sort((a, b) => compareAddresses(a.address, b.address));
  return makeValidatorSet(validators);
}

export function makeValidatorSet(validators: readonly Validator[]): ValidatorSet {
  let totalPower = 0n;
  let totalCappedStake = 0n;
  for (const v of validators) {
    totalPower += v.power;
    totalCappedStake += v.cappedStake;
  }
  return { validators, totalPower, totalCappedStake };
}
