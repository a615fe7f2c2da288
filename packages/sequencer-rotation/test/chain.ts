// Test support: stake records and a committed-block driver over a real RotationSchedule.
import { bytesToHex, concatBytes, type Hex, uintToBytes, utf8ToBytes } from "@dseq/common";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type {
  Address,
  BlockOutcome,
  CommittedBlock,
  RotationSchedule,
  StakeChange,
  StakeRecord,
} from "../src/index.ts";

export const TOKEN = 10n ** 18n;

export function signerOf(id: number): Address {
  return `0x${(0x5000 + id).toString(16).padStart(40, "0")}`;
}

export function ownerOf(id: number): Address {
  return `0x${(0xa000 + id).toString(16).padStart(40, "0")}`;
}

export function recipientOf(id: number): Address {
  return `0x${(0xf000 + id).toString(16).padStart(40, "0")}`;
}

export function pubkeyOf(id: number): Hex {
  return `0x${id.toString(16).padStart(128, "0")}`;
}

export function record(id: number, tokens: bigint, status: StakeRecord["status"] = "active"): StakeRecord {
  return {
    id,
    owner: ownerOf(id),
    signer: signerOf(id),
    signerPubkey: pubkeyOf(id),
    locked: tokens * TOKEN,
    status,
    rewardRecipient: recipientOf(id),
  };
}

export function lockChange(id: number, tokens: bigint): StakeChange {
  return {
    kind: "lock",
    id,
    owner: ownerOf(id),
    signer: signerOf(id),
    signerPubkey: pubkeyOf(id),
    amount: tokens * TOKEN,
    rewardRecipient: recipientOf(id),
  };
}

export const GENESIS_HASH: Hex = bytesToHex(keccak_256(utf8ToBytes("dseq test genesis")));

/** A deterministic stand-in for a block hash: keccak("block" || height || round || salt). */
export function blockHash(height: number, round: number, salt = 0): Hex {
  return bytesToHex(
    keccak_256(
      concatBytes(utf8ToBytes("block"), uintToBytes(height, 8), uintToBytes(round, 4), uintToBytes(salt, 4)),
    ),
  );
}

export type CommitOptions = {
  /** True when this proposer fails its (height, round): the round times out. */
  offline?: (proposer: Address, height: number, round: number) => boolean;
  timestamp?: number;
  stakeChanges?: readonly StakeChange[];
  salt?: number;
};

/**
 * Commits the next height the way consensus would: round 0 by the span sequencer, later rounds
 * by the schedule's CometBFT order, skipping rounds whose proposer is offline.
 */
export function commitNext(
  schedule: RotationSchedule,
  opts: CommitOptions = {},
): { block: CommittedBlock; outcome: BlockOutcome } {
  const height = schedule.nextHeight;
  for (let round = 0; round < 10_000; round++) {
    const proposer = schedule.proposerFor(height, round);
    if (opts.offline?.(proposer, height, round)) continue;
    const block: CommittedBlock = {
      height,
      hash: blockHash(height, round, opts.salt ?? 0),
      round,
      proposer,
      timestamp: opts.timestamp ?? height * 2,
      ...(opts.stakeChanges ? { stakeChanges: opts.stakeChanges } : {}),
    };
    return { block, outcome: schedule.applyBlock(block) };
  }
  throw new Error(`no proposer online at height ${height}`);
}

/** Plain JSON of anything with bigints (as decimal strings), for cross-process comparison. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
}
