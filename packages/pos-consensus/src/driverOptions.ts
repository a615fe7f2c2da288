import { MAX_CONSENSUS_MESSAGE_BYTES } from "./codec.ts";
import { defaultMaxRoundsAhead } from "./consensusCore.ts";
import { defaultTimeouts, type TimeoutConfig } from "./types.ts";

export type ConsensusDriverOptions = {
  chainId: bigint;
  timeouts?: TimeoutConfig;
  /** Network inputs waiting at most; beyond it the oldest is dropped (and counted). */
  queueSize?: number;
  maxRoundsAhead?: number;
  /** Own messages of the current height are sent again this often (lossy networks). */
  rebroadcastMs?: number;
  /** Messages of the next height kept until this node gets there, at most. */
  futureBufferSize?: number;
  /** ... and their bytes at most, all senders together. */
  futureBufferBytes?: number;
  /** Messages of the next height kept per sender (a proposal and 2 votes, for 3 rounds). */
  futureBufferPerSender?: number;
  /** Bytes of the next height kept per sender: one largest proposal and its votes. */
  futureBufferPerSenderBytes?: number;
  /** Signed messages remembered to ignore copies (under new gossip envelopes). */
  seenMessages?: number;
  /** Commits kept to answer stragglers and to check conflicting certificates. */
  recentCommits?: number;
  /** The WAL is compacted after a commit once it is larger than this. */
  walMaxBytes?: number;
  /**
   * Pause between a commit and the start of the next height (CometBFT's timeout_commit).
   * With a fixed slot (a block every 2 s) set it near the slot minus the usual consensus
   * latency, so that validators do not time out while the proposer waits for its timestamp;
   * 0 when the application paces blocks itself. `ConsensusApp.startTime`, when given and
   * defined for a height, replaces it.
   */
  commitDelayMs?: number;
  /** The longest wait for `ConsensusApp.startTime`: a bad answer cannot stall the chain. */
  maxStartDelayMs?: number;
};

export const defaultConsensusDriverOptions = {
  timeouts: defaultTimeouts,
  queueSize: 10_000,
  maxRoundsAhead: defaultMaxRoundsAhead,
  rebroadcastMs: 1_000,
  futureBufferSize: 1_000,
  futureBufferBytes: 8 * 1024 * 1024,
  futureBufferPerSender: 9,
  futureBufferPerSenderBytes: MAX_CONSENSUS_MESSAGE_BYTES + 64 * 1024,
  seenMessages: 16_384,
  recentCommits: 256,
  walMaxBytes: 16 * 1024 * 1024,
  commitDelayMs: 0,
  maxStartDelayMs: 10_000,
} as const;
