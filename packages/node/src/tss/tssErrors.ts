import { DseqError, type DseqErrorOptions } from "@dseq/common";

/** Stable codes of the errors the node's TSS service throws; callers match on `code`. */
export const NodeTssErrorCode = {
  /** The service has no group key that L1 expects (no DKG yet, or this node is not in the group). */
  NoGroupKey: "NODE_TSS_NO_GROUP_KEY",
  /** No coordinator produced a signature before the deadline. */
  SignTimeout: "NODE_TSS_SIGN_TIMEOUT",
  /** The validator set given to the service is unusable (empty, duplicate party, zero power). */
  BadValidatorSet: "NODE_TSS_BAD_VALIDATOR_SET",
  /** `<dataDir>/tss/state.json` does not decode. */
  StateCorrupt: "NODE_TSS_STATE_CORRUPT",
  /** The service was stopped while the call was waiting. */
  Stopped: "NODE_TSS_STOPPED",
  /** A digest that is not 32 bytes. */
  BadDigest: "NODE_TSS_BAD_DIGEST",
} as const;
export type NodeTssErrorCode = (typeof NodeTssErrorCode)[keyof typeof NodeTssErrorCode];

export class NodeTssError extends DseqError {
  override readonly code: NodeTssErrorCode;
  constructor(code: NodeTssErrorCode, message: string, opts: DseqErrorOptions = {}) {
    super(code, message, opts);
    this.name = "NodeTssError";
    this.code = code;
  }
}
