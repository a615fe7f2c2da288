import { bytesToHex, concatBytes, type Hex, hexToBytes, uintToBytes, utf8ToBytes } from "@dseq/common";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { RotationError, RotationErrorCode } from "./errors.ts";
import type { RotationParams } from "./params.ts";
import type { Address } from "./types.ts";

/** An observed block rate: `blocks` blocks took `seconds` seconds. */
export type BlockRate = { readonly seconds: bigint; readonly blocks: bigint };

/** The nominal rate (`blockTimeSeconds` per block), used before a reward period has been observed. */
export function nominalBlockRate(params: RotationParams): BlockRate {
  return { seconds: BigInt(params.blockTimeSeconds), blocks: 1n };
}

/**
 * Reward per block so that a year of blocks at `rate` pays `rewardRateBps` of
 * `totalCappedStake`:
 *
 *   floor(totalCappedStake * rewardRateBps * rate.seconds / (10_000 * secondsPerYear * rate.blocks))
 *
 * One floor at the end, so a block pays at most 1 wei less than its exact share and a year of
 * B blocks at most B wei less than the target.
 */
export function rewardPerBlock(totalCappedStake: bigint, rate: BlockRate, params: RotationParams): bigint {
  if (totalCappedStake < 0n || rate.seconds <= 0n || rate.blocks <= 0n) {
    throw new RotationError(
      RotationErrorCode.InvalidRewardInput,
      "stake must be >= 0 and the block rate positive",
    );
  }
  const numerator = totalCappedStake * BigInt(params.rewardRateBps) * rate.seconds;
  const denominator = 10_000n * BigInt(params.secondsPerYear) * rate.blocks;
  return numerator / denominator;
}

/** One sequencer's line in a reward checkpoint. */
export type RewardEntry = {
  readonly id: number;
  readonly recipient: Address;
  /** Earned since the previous checkpoint. */
  readonly amount: bigint;
  /** Earned since genesis, including `amount`: what an L1 claim contract pays up to. */
  readonly cumulative: bigint;
};

/** Rewards settled over heights `[fromHeight, toHeight]`. */
export type RewardCheckpoint = {
  readonly index: number;
  readonly fromHeight: number;
  readonly toHeight: number;
  /** Ordered by id. */
  readonly entries: readonly RewardEntry[];
  /** Sum of `amount` over the entries. */
  readonly total: bigint;
};

export const REWARD_CHECKPOINT_DOMAIN = "dseq/sequencer-rotation/reward-checkpoint/v1";

/**
 * Canonical bytes of a checkpoint, for the threshold signature that will carry it to L1:
 * domain (ASCII) || uint64 index || uint64 fromHeight || uint64 toHeight || uint32 count ||
 * per entry: uint64 id || recipient (20 bytes) || uint256 amount || uint256 cumulative.
 * All integers big-endian.
 */
export function encodeRewardCheckpoint(cp: RewardCheckpoint): Uint8Array {
  const parts: Uint8Array[] = [
    utf8ToBytes(REWARD_CHECKPOINT_DOMAIN),
    uintToBytes(cp.index, 8),
    uintToBytes(cp.fromHeight, 8),
    uintToBytes(cp.toHeight, 8),
    uintToBytes(cp.entries.length, 4),
  ];
  for (const e of cp.entries) {
    parts.push(
      uintToBytes(e.id, 8),
      hexToBytes(e.recipient),
      uintToBytes(e.amount, 32),
      uintToBytes(e.cumulative, 32),
    );
  }
  return concatBytes(...parts);
}

export function rewardCheckpointHash(cp: RewardCheckpoint): Hex {
  return bytesToHex(keccak_256(encodeRewardCheckpoint(cp)));
}

/**
 * Per-sequencer reward accounting: what each id earned since the last checkpoint and since
 * genesis. Mutable on purpose (it sits inside the schedule and is updated once per block);
 * `snapshot()` and `fromSnapshot()` give plain data.
 */
export class RewardLedger {
  private readonly pending = new Map<number, bigint>();
  private readonly lifetime = new Map<number, bigint>();
  private readonly recipients = new Map<number, Address>();
  private paid = 0n;
  private checkpointIndex = 0;
  private lastCheckpointHeight = 0;

  credit(id: number, recipient: Address, amount: bigint): void {
    if (amount < 0n) throw new RotationError(RotationErrorCode.InvalidRewardInput, "negative reward");
    this.pending.set(id, (this.pending.get(id) ?? 0n) + amount);
    this.lifetime.set(id, (this.lifetime.get(id) ?? 0n) + amount);
    this.recipients.set(id, recipient);
    this.paid += amount;
  }

  /** Earned since the last checkpoint (not yet settled). */
  accrued(id: number): bigint {
    return this.pending.get(id) ?? 0n;
  }

  /** Earned since genesis. */
  earned(id: number): bigint {
    return this.lifetime.get(id) ?? 0n;
  }

  /** Everything paid out since genesis. */
  totalPaid(): bigint {
    return this.paid;
  }

  /** Sequencer ids with a reward since genesis, ascending. */
  ids(): number[] {
    return [...this.lifetime.keys()].sort((a, b) => a - b);
  }

  /** Settles what accrued since the last checkpoint, up to and including `toHeight`. */
  checkpoint(toHeight: number): RewardCheckpoint {
    if (toHeight <= this.lastCheckpointHeight) {
      throw new RotationError(RotationErrorCode.CheckpointOrder, "checkpoint must move forward", {
        details: { toHeight, last: this.lastCheckpointHeight },
      });
    }
    const entries: RewardEntry[] = [];
    let total = 0n;
    for (const id of [...this.pending.keys()].sort((a, b) => a - b)) {
      const amount = this.pending.get(id)!;
      if (amount === 0n) continue;
      entries.push({ id, recipient: this.recipients.get(id)!, amount, cumulative: this.lifetime.get(id)! });
      total += amount;
    }
    const cp: RewardCheckpoint = {
      index: this.checkpointIndex,
      fromHeight: this.lastCheckpointHeight + 1,
      toHeight,
      entries,
      total,
    };
    this.pending.clear();
    this.checkpointIndex++;
    this.lastCheckpointHeight = toHeight;
    return cp;
  }

  snapshot(): RewardLedgerSnapshot {
    return {
      pending: [...this.pending].sort((a, b) => a[0] - b[0]),
      lifetime: [...this.lifetime].sort((a, b) => a[0] - b[0]),
      recipients: [...this.recipients].sort((a, b) => a[0] - b[0]),
      paid: this.paid,
      checkpointIndex: this.checkpointIndex,
      lastCheckpointHeight: this.lastCheckpointHeight,
    };
  }

  static fromSnapshot(s: RewardLedgerSnapshot): RewardLedger {
    const ledger = new RewardLedger();
    for (const [id, v] of s.pending) ledger.pending.set(id, v);
    for (const [id, v] of s.lifetime) ledger.lifetime.set(id, v);
    for (const [id, v] of s.recipients) ledger.recipients.set(id, v);
    ledger.paid = s.paid;
    ledger.checkpointIndex = s.checkpointIndex;
    ledger.lastCheckpointHeight = s.lastCheckpointHeight;
    return ledger;
  }
}

export type RewardLedgerSnapshot = {
  readonly pending: readonly (readonly [number, bigint])[];
  readonly lifetime: readonly (readonly [number, bigint])[];
  readonly recipients: readonly (readonly [number, Address])[];
  readonly paid: bigint;
  readonly checkpointIndex: number;
  readonly lastCheckpointHeight: number;
};
