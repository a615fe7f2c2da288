import { DseqError, type DseqErrorOptions } from "@dseq/common";

/** Stable codes of the errors this package throws (match on `code`, never on message text). */
export const L2ExecErrorCode = {
  GenesisMismatch: "L2EXEC_GENESIS_MISMATCH",
  InvalidConfig: "L2EXEC_INVALID_CONFIG",
  UnknownBlock: "L2EXEC_UNKNOWN_BLOCK",
  NotChild: "L2EXEC_NOT_CHILD_OF_HEAD",
  InvalidBlock: "L2EXEC_INVALID_BLOCK",
  Closed: "L2EXEC_CLOSED",
  StateUnavailable: "L2EXEC_STATE_UNAVAILABLE",
  ExecutionFailed: "L2EXEC_EXECUTION_FAILED",
  /** eth_simulateV1 refused its input (the JSON-RPC code is in `details.rpcCode`). */
  SimulateRefused: "L2_SIMULATE_REFUSED",
} as const;
export type L2ExecErrorCode = (typeof L2ExecErrorCode)[keyof typeof L2ExecErrorCode];

export class L2ExecError extends DseqError {
  constructor(code: L2ExecErrorCode, message: string, opts: DseqErrorOptions = {}) {
    super(code, message, opts);
    this.name = "L2ExecError";
  }
}
