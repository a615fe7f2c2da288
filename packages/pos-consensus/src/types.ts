import type { Hex } from "@dseq/common";

/**
 * Steps of one round, as ordered numbers so code can compare them (`step >= Step.Prevote`).
 * `Propose`, `Prevote` and `Precommit` are the paper's `step_p`; `Commit` means the height is
 * decided and the node waits for the application to commit it.
 */
export const Step = { Propose: 1, Prevote: 2, Precommit: 3, Commit: 4 } as const;
export type Step = (typeof Step)[keyof typeof Step];

/** Message types, also the `type` byte of the sign bytes (CometBFT's numbers). */
export const MsgType = { Prevote: 1, Precommit: 2, Proposal: 32 } as const;
export type VoteType = typeof MsgType.Prevote | typeof MsgType.Precommit;

/** The step a timeout belongs to (the paper's OnTimeoutPropose / Prevote / Precommit). */
export type TimeoutStep = typeof Step.Propose | typeof Step.Prevote | typeof Step.Precommit;

/**
 * A value: an opaque block hash (32 bytes) and the opaque payload the application made.
 * Consensus never looks inside the payload; `ConsensusApp.validate` checks that the hash
 * belongs to the payload.
 */
export type Block = { readonly hash: Hex; readonly payload: Uint8Array };

/** A signed prevote or precommit. `blockHash` null is a vote for nil. */
export type Vote = {
  readonly type: VoteType;
  readonly height: number;
  readonly round: number;
  readonly blockHash: Hex | null;
  /** Address of the validator that signed. */
  readonly validator: Hex;
  /** 64-byte compact secp256k1 signature (r || s, low S) over the vote's sign bytes. */
  readonly signature: Hex;
};
export type UnsignedVote = Omit<Vote, "signature">;

/** The paper's ⟨PROPOSAL, h, round, v, vr⟩; `polRound` is vr (-1 when none). */
export type Proposal = {
  readonly height: number;
  readonly round: number;
  readonly polRound: number;
  readonly blockHash: Hex;
  readonly proposer: Hex;
  readonly signature: Hex;
};
export type UnsignedProposal = Omit<Proposal, "signature">;

/** +2/3 precommits (by voting power) for one block in one round of one height. */
export type CommitCertificate = {
  readonly height: number;
  readonly round: number;
  readonly blockHash: Hex;
  readonly signatures: readonly { readonly validator: Hex; readonly signature: Hex }[];
};

/** What travels between nodes. A proposal carries its block. */
export type ConsensusMessage =
  | { readonly type: "proposal"; readonly proposal: Proposal; readonly block: Block }
  | { readonly type: "vote"; readonly vote: Vote }
  | { readonly type: "certificate"; readonly certificate: CommitCertificate };

/** Two signed, conflicting messages of one validator for one (height, round, step). */
export type Evidence =
  | { readonly type: "duplicateVote"; readonly validator: Hex; readonly a: Vote; readonly b: Vote }
  | {
      readonly type: "conflictingProposal";
      readonly validator: Hex;
      readonly a: Proposal;
      readonly b: Proposal;
    }
  /**
   * Two valid certificates for different blocks at one height: safety is lost. `validators`
   * signed both (more than a third of the power must have).
   */
  | {
      readonly type: "conflictingCommit";
      readonly height: number;
      readonly a: CommitCertificate;
      readonly b: CommitCertificate;
      readonly validators: readonly Hex[];
    };

export type TimeoutConfig = {
  /** timeoutPropose(r) = propose + r * proposeDelta, in ms. */
  readonly propose: number;
  readonly proposeDelta: number;
  readonly prevote: number;
  readonly prevoteDelta: number;
  readonly precommit: number;
  readonly precommitDelta: number;
};

/** Set so that a silent proposer costs about one round of 1 to 2 s (ARCHITECTURE.md). */
export const defaultTimeouts: TimeoutConfig = {
  propose: 1000,
  proposeDelta: 500,
  prevote: 500,
  prevoteDelta: 250,
  precommit: 500,
  precommitDelta: 250,
};
