import { bytesToHex, concatBytes, type Hex, hexToBytes, uintToBytes, utf8ToBytes } from "@dseq/common";
import { isPartyId, type PartyId, thresholdFor } from "@dseq/mpc-tss";
import { sha256 } from "./hash.ts";
import { NodeTssError, NodeTssErrorCode } from "./tssErrors.ts";

/** One validator as the TSS sees it: its party id (compressed sequencer key) and voting power. */
export type TssValidator = { party: PartyId; power: bigint };

/**
 * Checks and canonicalises a validator set: sorted by party id, no duplicates, every power > 0.
 * Throws `NODE_TSS_BAD_VALIDATOR_SET` otherwise (the set comes from the chain; a bad one is a bug).
 */
export function canonicalValidators(validators: readonly TssValidator[]): TssValidator[] {
  if (validators.length === 0)
    throw new NodeTssError(NodeTssErrorCode.BadValidatorSet, "empty validator set");
  const out = validators.map((v) => ({ party: v.party.toLowerCase() as PartyId, power: v.power }));
  out.sort((a, b) => (a.party < b.party ? -1 : a.party > b.party ? 1 : 0));
  for (const [i, v] of out.entries()) {
    if (!isPartyId(v.party) || v.power <= 0n || (i > 0 && out[i - 1]?.party === v.party)) {
      throw new NodeTssError(NodeTssErrorCode.BadValidatorSet, "bad validator in set", {
        details: { party: v.party, power: v.power.toString() },
      });
    }
  }
  return out;
}

export function totalPower(validators: readonly TssValidator[]): bigint {
  return validators.reduce((s, v) => s + v.power, 0n);
}

/** Voting power of `parties` within the set (parties outside it count for nothing). */
export function powerOf(validators: readonly TssValidator[], parties: readonly PartyId[]): bigint {
  const set = new Set(parties.map((p) => p.toLowerCase()));
  return validators.reduce((s, v) => (set.has(v.party) ? s + v.power : s), 0n);
}

/** More than 2/3 of the set's voting power: the BFT quorum a signing set must hold. */
export function hasPowerQuorum(validators: readonly TssValidator[], parties: readonly PartyId[]): boolean {
  return 3n * powerOf(validators, parties) > 2n * totalPower(validators);
}

/**
 * The DKG threshold t (ADR 0150): at least mpc-tss's floor(2n/3) + 1 members, and more than
 * the largest number of members that can hold less than 1/3 of the power (the smallest
 * validators first). So any t shares include one member that is honest under the BFT
 * assumption, and every honest member's approve refuses a signing set without > 2/3 power.
 */
export function tssThreshold(validators: readonly TssValidator[]): number {
  const n = validators.length;
  const total = totalPower(validators);
  const ascending = validators.map((v) => v.power).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let faulty = 0;
  let sum = 0n;
  for (const p of ascending) {
    if (3n * (sum + p) >= total) break;
    sum += p;
    faulty++;
  }
  return Math.min(n, Math.max(thresholdFor(n), faulty + 1));
}

/** A digest of a canonical set (parties and powers): two spans with the same set share a key. */
export function validatorSetDigest(validators: readonly TssValidator[]): Hex {
  const parts = canonicalValidators(validators).flatMap((v) => [
    hexToBytes(v.party),
    uintToBytes(v.power, 32),
  ]);
  return bytesToHex(sha256(concatBytes(utf8ToBytes("dseq/node/tss-set/v1"), ...parts)));
}
