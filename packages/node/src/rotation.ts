import { bytesToHex, type Hex } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import {
  type CommitCertificate,
  decodeCertificate as decodeConsensusCertificate,
  type HeightValidators,
  ValidatorSet,
  type ValidatorSource,
} from "@dseq/pos-consensus";
import {
  applyStakeChange,
  type BlockOutcome,
  createRotationParams,
  createRotationSchedule,
  createStakeRegistry,
  type RotationSchedule,
  type StakeChange,
  type StakeRecord,
  stakeChangeError,
} from "@dseq/sequencer-rotation";
import type { Block } from "@ethereumjs/block";
import { decodeBlockExtra } from "./blockExtra.ts";
import type { ChainSpec } from "./chainSpec.ts";
import { NodeError, NodeErrorCode } from "./errors.ts";
import { decodeBlockEntries, type L2Entry } from "./l1Entries.ts";

export function stakeRecordsOf(spec: ChainSpec): StakeRecord[] {
  return spec.validators.map((v) => ({
    id: v.id,
    owner: v.owner,
    signer: v.signer,
    signerPubkey: (v.signerPubkey.startsWith("0x")
      ? v.signerPubkey
      : `0x${v.signerPubkey}`
    ).toLowerCase() as Hex,
    locked: v.locked,
    status: v.status,
    rewardRecipient: v.rewardRecipient,
  }));
}

/** A stored or served commit certificate: RLP, or the JSON form older stores hold (strict either way). */
export function decodeCertificate(bytes: Uint8Array): CommitCertificate {
  return decodeConsensusCertificate(bytes);
}

/**
 * The rotation schedule rebuilt from the committed chain: every committed block's builder
 * (from extraData) and commit round (from its certificate) are fed in height order, so the
 * schedule is exactly what every other node computed.
 */
export async function rebuildSchedule(spec: ChainSpec, chain: Chain): Promise<RotationSchedule> {
  return (await rebuildChainState(spec, chain)).schedule;
}

/** The L1 entries a committed block holds (ADR 0120); a stored block that does not decode is a broken store. */
export function committedEntries(block: Block): L2Entry[] {
  const d = decodeBlockEntries(block.withdrawals);
  if (!d.ok) {
    throw new NodeError(
      NodeErrorCode.StoreInconsistent,
      `committed block ${block.header.number} has malformed L1 entries: ${d.reason}`,
    );
  }
  return d.entries;
}

/**
 * The stake changes of `entries` that apply to the schedule's registry, in order (ADR 0120): one
 * that cannot (an increase for an unknown id, ...) keeps its index and changes nothing, on
 * every node alike, so `applyBlock` never throws on committed data.
 */
export function applicableStakeChanges(
  schedule: RotationSchedule,
  entries: readonly L2Entry[],
): { changes: StakeChange[]; skipped: { index: bigint; reason: string }[] } {
  let registry = createStakeRegistry(schedule.stakeRecords());
  const changes: StakeChange[] = [];
  const skipped: { index: bigint; reason: string }[] = [];
  for (const e of entries) {
    if (e.type !== "stake") continue;
    const reason = stakeChangeError(registry, e.change);
    if (reason !== undefined) {
      skipped.push({ index: e.index, reason });
      continue;
    }
    registry = applyStakeChange(registry, e.change);
    changes.push(e.change);
  }
  return { changes, skipped };
}

/**
 * Schedule and entry index rebuilt from the committed chain: each block's builder, commit round
 * and stake changes, in height order; `nextEntry` is the index after the last entry a block holds.
 */
export async function rebuildChainState(
  spec: ChainSpec,
  chain: Chain,
): Promise<{ schedule: RotationSchedule; nextEntry: bigint }> {
  const genesis = await chain.getBlockByNumber(0n);
  if (!genesis) throw new NodeError(NodeErrorCode.NoGenesis, "the chain store has no genesis block");
  const schedule = createRotationSchedule({
    params: createRotationParams({
      ...spec.rotation,
      blockTimeSeconds: spec.blockTimeMs / 1000,
    }),
    genesis: {
      records: stakeRecordsOf(spec),
      hash: bytesToHex(genesis.hash()),
      timestamp: Number(genesis.header.timestamp),
    },
  });
  const head = chain.head().header.number;
  let nextEntry = 0n;
  for (let n = 1n; n <= head; n++) {
    const block = await chain.getBlockByNumber(n);
    const certBytes = await chain.getCommitCertificate(n);
    if (!block || !certBytes) {
      throw new NodeError(
        NodeErrorCode.StoreInconsistent,
        `block ${n} or its commit certificate is missing from the store`,
      );
    }
    const entries = committedEntries(block);
    if (entries.length > 0) nextEntry = entries[entries.length - 1]!.index + 1n;
    applyToSchedule(
      schedule,
      block.header.number,
      bytesToHex(block.hash()),
      block.header.extraData,
      decodeCertificate(certBytes).round,
      block.header.timestamp,
      applicableStakeChanges(schedule, entries).changes,
    );
  }
  return { schedule, nextEntry };
}

export function applyToSchedule(
  schedule: RotationSchedule,
  height: bigint,
  hash: Hex,
  extraData: Uint8Array,
  round: number,
  timestamp: bigint,
  stakeChanges: readonly StakeChange[] = [],
): BlockOutcome {
  const { proposer } = decodeBlockExtra(extraData);
  return schedule.applyBlock({
    height: Number(height),
    hash,
    round,
    proposer,
    timestamp: Number(timestamp),
    ...(stakeChanges.length > 0 ? { stakeChanges } : {}),
  });
}

/** Consensus's view of the schedule: the set and the proposer order of each height. */
export function rotationValidatorSource(schedule: RotationSchedule): ValidatorSource {
  const cache = new Map<number, HeightValidators>();
  return {
    forHeight(height: number): HeightValidators {
      const hit = cache.get(height);
      if (hit) return hit;
      const vs = schedule.validatorSetAt(height);
      const set = new ValidatorSet(
        vs.validators.map((v) => ({
          publicKey: `0x04${v.publicKey.slice(2)}` as Hex,
          power: Number(v.power),
        })),
      );
      const hv: HeightValidators = { set, proposer: (round) => schedule.proposerFor(height, round) };
      cache.set(height, hv);
      if (cache.size > 8) cache.delete(cache.keys().next().value as number);
      return hv;
    },
  };
}
