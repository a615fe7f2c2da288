import { DseqError, type DseqErrorOptions } from "@dseq/common";

/** Stable codes of every error this package throws; callers match on `code`. */
export const TssErrorCode = {
  BadMessage: "TSS_BAD_MESSAGE",
  BadParams: "TSS_BAD_PARAMS",
  DkgTimeout: "TSS_DKG_TIMEOUT",
  DkgTranscriptMismatch: "TSS_DKG_TRANSCRIPT_MISMATCH",
  DkgCulprit: "TSS_DKG_CULPRIT",
  DkgExcluded: "TSS_DKG_EXCLUDED",
  DkgQuorumLost: "TSS_DKG_QUORUM_LOST",
  SignTimeout: "TSS_SIGN_TIMEOUT",
  SignQuorumUnreachable: "TSS_SIGN_QUORUM_UNREACHABLE",
  UnknownGroupKey: "TSS_UNKNOWN_GROUP_KEY",
  NonceUnavailable: "TSS_NONCE_UNAVAILABLE",
  StoreCorrupt: "TSS_STORE_CORRUPT",
  StoreLocked: "TSS_STORE_BAD_PASSWORD",
  Closed: "TSS_CLOSED",
  /** Signature shares did not aggregate into a valid signature (`cheaters` named, if any). */
  FrostAggregate: "TSS_FROST_AGGREGATE",
  /** The FROST math refused its inputs (noble's message kept). */
  FrostInvalidInput: "TSS_FROST_INVALID_INPUT",
} as const;
export type TssErrorCode = (typeof TssErrorCode)[keyof typeof TssErrorCode];

export class TssError extends DseqError {
  override readonly code: TssErrorCode;
  constructor(code: TssErrorCode, message: string, opts: DseqErrorOptions = {}) {
    super(code, message, opts);
    this.name = "TssError";
    this.code = code;
  }
}
