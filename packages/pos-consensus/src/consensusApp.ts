import type { Hex } from "@dseq/common";
import type { Block, CommitCertificate, ConsensusMessage } from "./types.ts";

/** The application boundary: the node fills it with block building and execution. */
export interface ConsensusApp {
  /** getValue(): a new block for (height, round), this node being the proposer. */
  propose(height: number, round: number): Promise<Block>;
  /**
   * valid(v): re-execute and check the block, including that `hash` belongs to `payload`.
   * The answer depends on the block and the committed chain only (never on a pool or a
   * local preference), so every honest validator gives the same one.
   * `round`, when the application records one in the block (dseq: `extraData`), is the round
   * the block was built for: the core then accepts it only in a consistent context (a fresh
   * proposal of exactly that round, a re-proposal or certificate of that round or later).
   */
  validate(height: number, block: Block): Promise<ValidateResult>;
  /** The decided block and its certificate; must be durable when the promise resolves. */
  commit(height: number, block: Block, certificate: CommitCertificate): Promise<void>;
  /**
   * When `height` should start, on the driver's clock (ms), once the height before it is
   * committed (CometBFT's timeout_commit, aligned to a slot). Undefined or in the past: at once.
   * The driver owns the wait; messages of the new height are buffered meanwhile.
   */
  startTime?(height: number): number | undefined;
}

export type ValidateResult = { valid: true; round?: number } | { valid: false; reason: string };

/** Outbound side of the network (p2p gossip). Inbound messages go to `driver.receive`. */
export interface ConsensusNetwork {
  broadcast(message: ConsensusMessage): void;
}

/** Catch-up: blocks and commits from peers (p2p request/response). */
export interface BlockFetcher {
  /** The block with this hash at this height, from any peer; undefined when none has it. */
  fetchBlock(height: number, blockHash: Hex, signal: AbortSignal): Promise<Block | undefined>;
  /**
   * A committed block and its certificate, for a node that fell behind. `source` names the
   * peer that answered; the driver checks the answer and reports a bad one to `penalize`.
   * The fetcher picks the peers (and should not ask a penalized one again soon).
   */
  fetchCommitted(
    height: number,
    signal: AbortSignal,
  ): Promise<{ block: Block; certificate: CommitCertificate; source?: string } | undefined>;
  /** The answer from `source` failed the driver's checks (wrong block, bad certificate). */
  penalize?(source: string, reason: string): void;
}

/** What gossip should do with a message (gossipsub's accept / ignore / reject). */
export type Verdict = "accept" | "ignore" | "reject";
