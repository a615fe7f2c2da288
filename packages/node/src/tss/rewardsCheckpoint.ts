import { type Hex, hexToBytes } from "@dseq/common";
import {
  rewardsDigest as l1RewardsDigest,
  type RewardCheckpoint as RewardCheckpointL1,
} from "@dseq/l1-contracts";
import type { RewardCheckpoint } from "@dseq/sequencer-rotation";

/** The `context.kind` of a reward checkpoint signing request (batches use "batch"). */
export const REWARDS_CONTEXT_KIND = "rewards";

/** Most sequencers one checkpoint may credit (the set is far smaller; bounds a hostile request). */
export const MAX_REWARD_ENTRIES = 1_024;

/** What LockingPool.submitRewards takes, and what the group key signs (ADR 0158). */
export type L1RewardCheckpoint = RewardCheckpointL1;

/** The context a coordinator sends with a rewards request: decimal strings, JSON only. */
export type RewardCheckpointJson = {
  checkpointId: string;
  fromBlock: string;
  toBlock: string;
  seqIds: string[];
  amounts: string[];
};

/** The ledger's checkpoint as L1 numbers it: index = checkpoint id, one entry per sequencer id. */
export function toL1Checkpoint(cp: RewardCheckpoint): L1RewardCheckpoint {
  return {
    checkpointId: BigInt(cp.index),
    fromBlock: BigInt(cp.fromHeight),
    toBlock: BigInt(cp.toHeight),
    seqIds: cp.entries.map((e) => BigInt(e.id)),
    amounts: cp.entries.map((e) => e.amount),
  };
}

export function checkpointToJson(cp: L1RewardCheckpoint): RewardCheckpointJson {
  return {
    checkpointId: cp.checkpointId.toString(),
    fromBlock: cp.fromBlock.toString(),
    toBlock: cp.toBlock.toString(),
    seqIds: cp.seqIds.map(String),
    amounts: cp.amounts.map(String),
  };
}

const UINT256_MAX = (1n << 256n) - 1n;
const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

function uint(v: unknown): bigint | undefined {
  if (typeof v !== "string" || !DECIMAL.test(v)) return undefined;
  const n = BigInt(v);
  return n <= UINT256_MAX ? n : undefined;
}

function uints(v: unknown): bigint[] | undefined {
  if (!Array.isArray(v) || v.length > MAX_REWARD_ENTRIES) return undefined;
  const out: bigint[] = [];
  for (const x of v) {
    const n = uint(x);
    if (n === undefined) return undefined;
    out.push(n);
  }
  return out;
}

/** Strict decode of a request's checkpoint (hostile input): exact keys, canonical decimals, bounded. */
export function checkpointFromJson(v: unknown): L1RewardCheckpoint | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(",");
  if (keys !== "amounts,checkpointId,fromBlock,seqIds,toBlock") return undefined;
  const checkpointId = uint(o.checkpointId);
  const fromBlock = uint(o.fromBlock);
  const toBlock = uint(o.toBlock);
  const seqIds = uints(o.seqIds);
  const amounts = uints(o.amounts);
  if (checkpointId === undefined || fromBlock === undefined || toBlock === undefined) return undefined;
  if (!seqIds || !amounts || seqIds.length !== amounts.length) return undefined;
  return { checkpointId, fromBlock, toBlock, seqIds, amounts };
}

export function sameCheckpoint(a: L1RewardCheckpoint, b: L1RewardCheckpoint): boolean {
  return (
    a.checkpointId === b.checkpointId &&
    a.fromBlock === b.fromBlock &&
    a.toBlock === b.toBlock &&
    a.seqIds.length === b.seqIds.length &&
    a.amounts.length === b.amounts.length &&
    a.seqIds.every((x, i) => x === b.seqIds[i]) &&
    a.amounts.every((x, i) => x === b.amounts[i])
  );
}

/**
 * LockingPool.rewardsDigest for `domain.pool` (l1-contracts' builder): another domain and another
 * contract than a batch's digest, so neither signature replays as the other.
 */
export function rewardsDigest(
  domain: { l1ChainId: bigint | number; pool: Hex },
  cp: L1RewardCheckpoint,
): Hex {
  return l1RewardsDigest({ l1ChainId: domain.l1ChainId, address: domain.pool }, cp);
}

export function rewardsDigestBytes(
  domain: { l1ChainId: bigint | number; pool: Hex },
  cp: L1RewardCheckpoint,
) {
  return hexToBytes(rewardsDigest(domain, cp));
}
