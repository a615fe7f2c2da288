import type { Hex } from "@dseq/common";

/** A lower-case `0x` + 40 hex address. */
export type Address = `0x${string}`;

/**
 * L1 locking-pool status of a sequencer. Only `active` records count for the validator set;
 * `unlocking` has started its exit and leaves the set at the next span boundary.
 */
export type StakeStatus = "active" | "unlocking";

/** One sequencer's stake as recorded on L1 (the locking pool), plain data. */
export type StakeRecord = {
  /** L1 sequencer id: stable across signer updates, the key rewards accrue under. */
  readonly id: number;
  readonly owner: Address;
  /** Consensus identity: the key that signs proposals and votes. */
  readonly signer: Address;
  /** Uncompressed secp256k1 public key without the `04` prefix (64 bytes), as L1 stores it. */
  readonly signerPubkey: Hex;
  /** Locked amount in wei (uncapped). */
  readonly locked: bigint;
  readonly status: StakeStatus;
  readonly rewardRecipient: Address;
};

/** Stake changes as the L1 listener reports them and blocks carry them. */
export type StakeChange =
  | {
      readonly kind: "lock";
      readonly id: number;
      readonly owner: Address;
      readonly signer: Address;
      readonly signerPubkey: Hex;
      readonly amount: bigint;
      readonly rewardRecipient: Address;
    }
  | { readonly kind: "increase"; readonly id: number; readonly amount: bigint }
  | { readonly kind: "withdraw"; readonly id: number; readonly amount: bigint }
  | { readonly kind: "unlockStart"; readonly id: number }
  | { readonly kind: "unlockComplete"; readonly id: number }
  | {
      readonly kind: "signerUpdate";
      readonly id: number;
      readonly signer: Address;
      readonly signerPubkey: Hex;
    }
  | { readonly kind: "rewardRecipientUpdate"; readonly id: number; readonly rewardRecipient: Address };

export type StakeChangeKind = StakeChange["kind"];

/** What this package needs to know about a committed block. */
export type CommittedBlock = {
  readonly height: number;
  /** Block hash, `0x` + 64 hex. */
  readonly hash: Hex;
  /** Round in which the block was committed (its commit certificate's round). */
  readonly round: number;
  /**
   * Signer address of the block's proposer (its builder). Usually the proposer of `round`; for a
   * block locked in an earlier round and re-proposed unchanged, the proposer of that round.
   */
  readonly proposer: Address;
  /** Block timestamp in seconds. */
  readonly timestamp: number;
  /** L1 stake changes included in this block, in order. */
  readonly stakeChanges?: readonly StakeChange[];
};

/** One member of a validator set. */
export type Validator = {
  readonly id: number;
  readonly address: Address;
  readonly publicKey: Hex;
  /** Voting power: whole tokens of the capped locked amount. */
  readonly power: bigint;
  /** Locked amount capped at `maxLock`, in wei: the base of rewards. */
  readonly cappedStake: bigint;
  readonly rewardRecipient: Address;
};

/** Validators ordered by address (ascending), with totals. */
export type ValidatorSet = {
  readonly validators: readonly Validator[];
  readonly totalPower: bigint;
  readonly totalCappedStake: bigint;
};
