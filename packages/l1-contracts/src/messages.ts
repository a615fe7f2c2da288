import { type Address, concat, encodeAbiParameters, type Hex, keccak256, toBytes } from "viem";
import { BatchInboxArtifact } from "./generated/artifacts.ts";

/** Where a batch's data lives; part of the signed header. */
export const BatchDataKind = { calldata: 0, blobs: 1 } as const;
export type BatchDataKind = (typeof BatchDataKind)[keyof typeof BatchDataKind];

/** The batch header the group key signs (BatchInbox.BatchHeader). */
export type BatchHeader = {
  chainId: bigint;
  batchIndex: bigint;
  prevBatchHash: Hex;
  firstBlock: bigint;
  lastBlock: bigint;
  lastBlockHash: Hex;
  stateRoot: Hex;
  dataKind: BatchDataKind;
  /** keccak256(data) for calldata batches, blobHashesDigest(versionedHashes) for blob batches. */
  dataHash: Hex;
};

/** Binds a signed message to one deployment: the L1 chain id and the verifying contract. */
export type L1Domain = { l1ChainId: bigint | number; address: Address };

const BATCH_DOMAIN = keccak256(toBytes("dseq.BatchInbox.batch.v1"));
const ROTATION_DOMAIN = keccak256(toBytes("dseq.BatchInbox.rotateGroupKey.v1"));
const REWARDS_DOMAIN = keccak256(toBytes("dseq.LockingPool.submitRewards.v1"));

const headerAbi = BatchInboxArtifact.abi.find((x) => x.type === "function" && x.name === "batchHash")?.inputs;
if (!headerAbi) throw new Error("BatchInbox ABI has no batchHash(header)");

/** keccak256(abi.encode(header)): what the next batch's prevBatchHash must be. */
export function batchHash(header: BatchHeader): Hex {
  return keccak256(encodeAbiParameters(headerAbi!, [header]));
}

/** The 32-byte message the group key FROST-signs for a batch. */
export function batchDigest(domain: L1Domain, header: BatchHeader): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "uint256" }, { type: "address" }, { type: "bytes32" }],
      [BATCH_DOMAIN, BigInt(domain.l1ChainId), domain.address, batchHash(header)],
    ),
  );
}

/** What a blob batch's header.dataHash must be: keccak256 over the versioned hashes in order. */
export function blobHashesDigest(versionedHashes: readonly Hex[]): Hex {
  if (versionedHashes.length === 0) throw new Error("no blob versioned hashes");
  return keccak256(concat(versionedHashes));
}

/** The message the current group key (at `epoch`, 0 from deployment) signs to rotate to newKey. */
export function rotationDigest(domain: L1Domain, epoch: bigint, newKey: Hex): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "uint256" }, { type: "address" }, { type: "uint64" }, { type: "bytes" }],
      [ROTATION_DOMAIN, BigInt(domain.l1ChainId), domain.address, epoch, newKey],
    ),
  );
}

export type RewardCheckpoint = {
  checkpointId: bigint;
  fromBlock: bigint;
  toBlock: bigint;
  seqIds: readonly bigint[];
  amounts: readonly bigint[];
};

/** The message the group key signs for LockingPool.submitRewards (domain.address is the pool). */
export function rewardsDigest(domain: L1Domain, cp: RewardCheckpoint): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: "bytes32" },
        { type: "uint256" },
        { type: "address" },
        { type: "uint256" },
        { type: "uint256" },
        { type: "uint256" },
        { type: "uint256[]" },
        { type: "uint256[]" },
      ],
      [
        REWARDS_DOMAIN,
        BigInt(domain.l1ChainId),
        domain.address,
        cp.checkpointId,
        cp.fromBlock,
        cp.toBlock,
        cp.seqIds,
        cp.amounts,
      ],
    ),
  );
}
