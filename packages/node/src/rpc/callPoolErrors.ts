import { DseqError } from "@dseq/common";

/** Why the RPC's EVM pool did not run a call (ADR 0130). */
export const CallPoolErrorCode = {
  /** Every worker busy and the queue full: the caller is told to back off. */
  Busy: "NODE_RPC_EVM_BUSY",
  /** The call ran past `evmTimeoutMs`; its worker was terminated. */
  Timeout: "NODE_RPC_EVM_TIMEOUT",
  /** The caller gave up (request deadline, client gone) before the call finished. */
  Aborted: "NODE_RPC_EVM_ABORTED",
  /** The pool is stopped or its workers cannot start. */
  Unavailable: "NODE_RPC_EVM_UNAVAILABLE",
  /** The worker died while running the call. */
  WorkerFailed: "NODE_RPC_EVM_WORKER_FAILED",
} as const;
export type CallPoolErrorCode = (typeof CallPoolErrorCode)[keyof typeof CallPoolErrorCode];

export class CallPoolError extends DseqError {
  override readonly code: CallPoolErrorCode;
  constructor(
    code: CallPoolErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(code, message, opts);
    this.name = "CallPoolError";
    this.code = code;
  }
}
