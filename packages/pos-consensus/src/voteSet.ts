import { type Hex, hexToBytes } from "@dseq/common";
import { voteSignBytes } from "./signBytes.ts";
import type { VerifyFn } from "./signer.ts";
import type { Evidence, Vote, VoteType } from "./types.ts";
import type { ValidatorSet } from "./validatorSet.ts";

/** Tally key of a vote's value: the block hash, or `nil`. */
export type ValueKey = Hex | "nil";
export const valueKey = (blockHash: Hex | null): ValueKey => blockHash ?? "nil";

export type AddVoteResult =
  | { readonly status: "added" }
  | { readonly status: "duplicate" }
  | { readonly status: "conflict"; readonly evidence: Evidence }
  | {
      readonly status: "rejected";
      readonly reason: "wrongHeightRoundType" | "unknownValidator" | "badSignature";
    };

/**
 * The prevotes or precommits of one (height, round). Immutable: `add` returns a new set, so
 * the consensus core stays a pure function of its inputs. Rejects wrong signatures, unknown
 * validators and duplicates; a second, different vote from one validator is kept out of the
 * tally (the first counts) and returned as evidence.
 */
export class VoteSet {
  readonly height: number;
  readonly round: number;
  readonly type: VoteType;
  readonly validators: ValidatorSet;
  /** Power of all counted votes, whatever their value. */
  readonly sum: number;
  private readonly votes: readonly (Vote | undefined)[];
  private readonly tally: ReadonlyMap<ValueKey, number>;

  private constructor(
    height: number,
    round: number,
    type: VoteType,
    validators: ValidatorSet,
    votes: readonly (Vote | undefined)[],
    tally: ReadonlyMap<ValueKey, number>,
    sum: number,
  ) {
    this.height = height;
    this.round = round;
    this.type = type;
    this.validators = validators;
    this.votes = votes;
    this.tally = tally;
    this.sum = sum;
  }

  static empty(height: number, round: number, type: VoteType, validators: ValidatorSet): VoteSet {
    return new VoteSet(
      height,
      round,
      type,
      validators,
      new Array(validators.size).fill(undefined),
      new Map(),
      0,
    );
  }

  add(vote: Vote, chainId: bigint, verify: VerifyFn): { set: VoteSet; result: AddVoteResult } {
    if (vote.height !== this.height || vote.round !== this.round || vote.type !== this.type) {
      return { set: this, result: { status: "rejected", reason: "wrongHeightRoundType" } };
    }
    const idx = this.validators.indexOf(vote.validator);
    if (idx === undefined) return { set: this, result: { status: "rejected", reason: "unknownValidator" } };
    const existing = this.votes[idx];
    if (existing && existing.blockHash === vote.blockHash && existing.signature === vote.signature) {
      return { set: this, result: { status: "duplicate" } };
    }
    const val = this.validators.validators[idx]!;
    if (!verifyVote(vote, chainId, val.publicKey, verify)) {
      return { set: this, result: { status: "rejected", reason: "badSignature" } };
    }
    if (existing) {
      // Same value, other signature bytes (ECDSA malleability is closed by low-S, so this is a
      // re-sign with another nonce): not a conflict, nothing new to count.
      if (existing.blockHash === vote.blockHash) return { set: this, result: { status: "duplicate" } };
      return {
        set: this,
        result: {
          status: "conflict",
          evidence: { type: "duplicateVote", validator: val.address, a: existing, b: vote },
        },
      };
    }
    const votes = this.votes.slice();
    votes[idx] = vote;
    const tally = new Map(this.tally);
    const key = valueKey(vote.blockHash);
    tally.set(key, (tally.get(key) ?? 0) + val.power);
    return {
      set: new VoteSet(
        this.height,
        this.round,
        this.type,
        this.validators,
        votes,
        tally,
        this.sum + val.power,
      ),
      result: { status: "added" },
    };
  }

  /** The counted vote of a validator. */
  voteOf(address: Hex): Vote | undefined {
    const i = this.validators.indexOf(address);
    return i === undefined ? undefined : this.votes[i];
  }

  /** Whether the validator at `index` has a counted vote. */
  hasVoteAt(index: number): boolean {
    return this.votes[index] !== undefined;
  }

  powerFor(blockHash: Hex | null): number {
    return this.tally.get(valueKey(blockHash)) ?? 0;
  }

  /** +2/3 for one value: its hash, `null` for nil, `undefined` when no value has it. */
  twoThirdsMajority(): Hex | null | undefined {
    for (const [key, power] of this.tally) {
      if (this.validators.hasQuorum(power)) return key === "nil" ? null : key;
    }
    return undefined;
  }

  hasTwoThirdsFor(blockHash: Hex | null): boolean {
    return this.validators.hasQuorum(this.powerFor(blockHash));
  }

  /** +2/3 of the power voted, for any mix of values (the paper's `2f + 1 ⟨·, ∗⟩`). */
  hasTwoThirdsAny(): boolean {
    return this.validators.hasQuorum(this.sum);
  }

  /** Every counted vote for `blockHash`, in validator order. */
  votesFor(blockHash: Hex | null): Vote[] {
    return this.votes.filter((v): v is Vote => v !== undefined && v.blockHash === blockHash);
  }

  all(): Vote[] {
    return this.votes.filter((v): v is Vote => v !== undefined);
  }
}

export function verifyVote(vote: Vote, chainId: bigint, publicKey: Uint8Array, verify: VerifyFn): boolean {
  let bytes: Uint8Array;
  let sig: Uint8Array;
  try {
    bytes = voteSignBytes(chainId, vote);
    sig = hexToBytes(vote.signature);
  } catch {
    return false;
  }
  return verify(bytes, sig, publicKey);
}
