import { DseqError, type DseqErrorOptions } from "@dseq/common";

/**
 * Error codes of pos-consensus (`DseqError.code`). Callers match on these, never on message
 * text. `ConsensusError` carries them; its subclasses `ConsensusInvariantError` (INVARIANT) and
 * `DoubleSignError` (DOUBLE_SIGN_REFUSED) add a name.
 */
export const ConsensusErrorCode = {
  /** Bytes or a value that is not a well-formed consensus message, certificate or WAL record. */
  BadMessage: "CONSENSUS_BAD_MESSAGE",
  /** The application proposed a block of the wrong shape. */
  BadBlock: "CONSENSUS_BAD_BLOCK",
  BadPower: "CONSENSUS_BAD_POWER",
  Config: "CONSENSUS_CONFIG",
  DoubleSignRefused: "CONSENSUS_DOUBLE_SIGN_REFUSED",
  DuplicateValidator: "CONSENSUS_DUPLICATE_VALIDATOR",
  EmptyValidatorSet: "CONSENSUS_EMPTY_VALIDATOR_SET",
  GuardCorrupt: "CONSENSUS_GUARD_CORRUPT",
  Invariant: "CONSENSUS_INVARIANT",
  NoQuorum: "CONSENSUS_NO_QUORUM",
  Started: "CONSENSUS_STARTED",
  WalCorrupt: "CONSENSUS_WAL_CORRUPT",
  WalRecordTooLarge: "CONSENSUS_WAL_RECORD_TOO_LARGE",
} as const;
export type ConsensusErrorCode = (typeof ConsensusErrorCode)[keyof typeof ConsensusErrorCode];

/** An error of pos-consensus; the code says which (the subclasses above set theirs). */
export class ConsensusError extends DseqError {
  override readonly code: ConsensusErrorCode;
  constructor(code: ConsensusErrorCode, message: string, opts: DseqErrorOptions = {}) {
    super(code, message, opts);
    this.name = "ConsensusError";
    this.code = code;
  }
}
