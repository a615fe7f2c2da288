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

/** Votes kept per validator and set beyond the first: an equivocator cannot fill memory. */
export const MAX_CONFLICTING_VOTES = 3;

/**
 * The prevotes or precommits of one (height, round). Immutable: `add` returns a new set, so
 * the consensus core stays a pure function of its inputs. Rejects wrong signatures, unknown
 * validators and duplicates.
 *
 * Counting follows the paper, which counts messages per value: "2f + 1 ⟨PRECOMMIT, h, r,
 * id(v)⟩" are precommits for id(v) from distinct validators, and "2f + 1 ⟨PREVOTE, h, r, ∗⟩"
 * are prevotes from distinct validators. A validator that signs two values therefore counts
 * towards each value (up to MAX_CONFLICTING_VOTES of them), but once towards the "any" sum;
 * the conflict is returned as evidence. With at most f faulty this is safe (two quorums still
 * share an honest validator), and it keeps honest nodes live when an equivocator showed each
 * of them a different vote first (CometBFT reaches the same with peer-claimed majorities).
 */
export class VoteSet {
  readonly height: number;
  readonly round: number;
  readonly type: VoteType;
  readonly validators: ValidatorSet;
  /** Power of all counted votes, whatever their value. */
  readonly sum: number;
  private readonly votes: readonly (Vote | undefined)[];
  /** Further, conflicting votes by validator index. */
  private readonly conflicting: ReadonlyMap<number, readonly Vote[]>;
  private readonly tally: ReadonlyMap<ValueKey, number>;

  private constructor(
    height: number,
    round: number,
    type: VoteType,
    validators: ValidatorSet,
    votes: readonly (Vote | undefined)[],
    conflicting: ReadonlyMap<number, readonly Vote[]>,
    tally: ReadonlyMap<ValueKey, number>,
    sum: number,
  ) {
    this.conflicting = conflicting;
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
    const others = this.conflicting.get(idx) ?? [];
    const sameValue =
      existing?.blockHash === vote.blockHash ? existing : others.find((o) => o.blockHash === vote.blockHash);
    // Same value again (a duplicate, or a re-sign with another nonce): nothing new to count.
    if (sameValue) return { set: this, result: { status: "duplicate" } };
    const val = this.validators.validators[idx]!;
    if (!verifyVote(vote, chainId, val.publicKey, verify)) {
      return { set: this, result: { status: "rejected", reason: "badSignature" } };
    }
    const tally = new Map(this.tally);
    const key = valueKey(vote.blockHash);
    tally.set(key, (tally.get(key) ?? 0) + val.power);
    if (existing) {
      const evidence: Evidence = { type: "duplicateVote", validator: val.address, a: existing, b: vote };
      if (others.length >= MAX_CONFLICTING_VOTES)
        return { set: this, result: { status: "conflict", evidence } };
      const conflicting = new Map(this.conflicting).set(idx, [...others, vote]);
      const set = new VoteSet(
        this.height,
        this.round,
        this.type,
        this.validators,
        this.votes,
        conflicting,
        tally,
        this.sum,
      );
      return { set, result: { status: "conflict", evidence } };
    }
    const votes = this.votes.slice();
    votes[idx] = vote;
    return {
      set: new VoteSet(
        this.height,
        this.round,
        this.type,
        this.validators,
        votes,
        this.conflicting,
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

  /** Every counted vote for `blockHash` (conflicting ones included), in validator order. */
  votesFor(blockHash: Hex | null): Vote[] {
    const out: Vote[] = [];
    this.votes.forEach((v, i) => {
      if (v?.blockHash === blockHash) out.push(v);
      else {
        const o = this.conflicting.get(i)?.find((x) => x.blockHash === blockHash);
        if (o) out.push(o);
      }
    });
    return out;
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
