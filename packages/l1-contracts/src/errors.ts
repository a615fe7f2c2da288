import { DseqError, type DseqErrorOptions } from "@dseq/common";

/** Stable codes of the errors this package throws (match on `code`, never on message text). */
export const L1ContractsErrorCode = {
  /** The dev L1 (EDR) process did not come up. */
  DevnodeStartFailed: "L1_DEVNODE_START_FAILED",
  /** The dev L1 answered a JSON-RPC call with an error. */
  RpcError: "L1_RPC_ERROR",
  /** A deployment or setup transaction reverted or was not mined. */
  DeployFailed: "L1_DEPLOY_FAILED",
} as const;
export type L1ContractsErrorCode = (typeof L1ContractsErrorCode)[keyof typeof L1ContractsErrorCode];

export class L1ContractsError extends DseqError {
  override readonly code: L1ContractsErrorCode;
  constructor(code: L1ContractsErrorCode, message: string, opts: DseqErrorOptions = {}) {
    super(code, message, opts);
    this.name = "L1ContractsError";
    this.code = code;
  }
}
