import { DseqError, type DseqErrorOptions } from "@dseq/common";

/** Stable codes of the listener's failures; callers match on these, never on message text. */
export const L1ListenerErrorCode = {
  /** Every endpoint failed or timed out for one request (after retries). */
  Unavailable: "L1_LISTENER_UNAVAILABLE",
  /** An endpoint answered something inconsistent (log hash vs header, head moved mid-read, ...). */
  InconsistentData: "L1_LISTENER_INCONSISTENT_DATA",
  /** A reorg went below the oldest block the listener kept: it cannot find the common ancestor. */
  ReorgTooDeep: "L1_LISTENER_REORG_TOO_DEEP",
  /** A confirmed log that contradicts what the listener derived so far (e.g. LockUpdate of an unknown id). */
  InvariantBroken: "L1_LISTENER_INVARIANT_BROKEN",
  /** The persisted state does not decode, or belongs to other contracts / another L1. */
  BadStoredState: "L1_LISTENER_BAD_STORED_STATE",
  InvalidOptions: "L1_LISTENER_INVALID_OPTIONS",
  NotStarted: "L1_LISTENER_NOT_STARTED",
} as const;

export type L1ListenerErrorCode = (typeof L1ListenerErrorCode)[keyof typeof L1ListenerErrorCode];

export class L1ListenerError extends DseqError {
  declare readonly code: L1ListenerErrorCode;
  constructor(code: L1ListenerErrorCode, message: string, opts: DseqErrorOptions = {}) {
    super(code, message, opts);
    this.name = "L1ListenerError";
  }
}

/**
 * Error kinds counted by `dseq_l1_errors_total{kind}`: what went wrong while polling, apart
 * from the error code (a timeout and a refused connection are both `Unavailable`).
 */
export const L1ErrorKind = {
  Timeout: "timeout",
  Rpc: "rpc",
  HeadRegressed: "head_regressed",
  InconsistentData: "inconsistent_data",
  Reorg: "reorg",
  ReorgTooDeep: "reorg_too_deep",
  Invariant: "invariant",
  Store: "store",
} as const;

export type L1ErrorKind = (typeof L1ErrorKind)[keyof typeof L1ErrorKind];
