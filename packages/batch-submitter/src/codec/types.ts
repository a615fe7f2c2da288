import type { Hex } from "viem";

/**
 * A committed L2 block as the submitter needs it: the header fields the batch must carry (the
 * ones a verifier cannot derive by re-executing) and the ones the batch header commits to, plus
 * the raw signed transactions (EIP-2718 bytes) in block order.
 */
export type CommittedBlock = {
  number: bigint;
  hash: Hex;
  parentHash: Hex;
  /** Seconds. */
  timestamp: bigint;
  /** Fee recipient (the sequencer that proposed it). */
  coinbase: Hex;
  /** Post-state root. */
  stateRoot: Hex;
  extraData: Uint8Array;
  transactions: readonly Uint8Array[];
  /**
   * How many L1 entries (deposits, stake changes; the node's `decodeBlockEntries(withdrawals)`)
   * the block carries, 0 when absent. A verifier takes that many from its own L1 view (ADR 0180).
   */
  l1EntryCount?: number;
};

/** What a batch's data carries for one block: everything else is re-derived by execution. */
export type BatchBlock = {
  number: bigint;
  timestamp: bigint;
  coinbase: Hex;
  extraData: Uint8Array;
  transactions: readonly Uint8Array[];
  /** L1 entries the block carries (0 when absent): their contents come from L1 itself. */
  l1EntryCount?: number;
};

/** Most L1 entries one block may carry (the node's MAX_ENTRIES_PER_BLOCK). */
export const MAX_L1_ENTRIES_PER_BLOCK = 64;

/** The consumer's view of the committed chain (the node wires its chain store here). */
export type CommittedBlockSource = {
  /** Highest committed (BFT-final) L2 block number. */
  head(): Promise<bigint>;
  /** The committed block at `number`, or undefined above the head. */
  block(number: bigint): Promise<CommittedBlock | undefined>;
};

/** Bounds the decoder enforces on hostile input. */
export type BatchLimits = {
  /** Largest compressed batch data accepted (calldata, or all blobs' payload). */
  maxDataBytes: number;
  /** Largest decompressed payload. */
  maxPayloadBytes: number;
  maxBlocks: number;
  maxTxs: number;
  /** Largest single transaction (stripped or raw). */
  maxTxBytes: number;
};

export const defaultBatchLimits: BatchLimits = {
  maxDataBytes: 6 * 4096 * 31, // six blobs' worth; calldata batches are cut smaller
  maxPayloadBytes: 32 * 1024 * 1024,
  maxBlocks: 100_000,
  maxTxs: 1_000_000,
  maxTxBytes: 256 * 1024,
};
