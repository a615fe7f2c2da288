import { DseqError } from "@dseq/common";
import { L2ExecErrorCode } from "../errors.ts";

/** eth_simulateV1's error codes (execution-apis), by the JSON-RPC number they are answered with. */
export const SimulateErrorCode = {
  NonceTooLow: -38010,
  NonceTooHigh: -38011,
  FeeCapTooLow: -38012,
  IntrinsicGas: -38013,
  InsufficientFunds: -38014,
  BlockGasLimit: -38015,
  BlockNumberOrder: -38020,
  TimestampOrder: -38021,
  TooManyBlocks: -38026,
  InvalidParams: -32602,
  Internal: -32603,
  Server: -32000,
} as const;
export type SimulateErrorCode = (typeof SimulateErrorCode)[keyof typeof SimulateErrorCode];

export class SimulateError extends DseqError {
  readonly rpcCode: SimulateErrorCode;
  constructor(rpcCode: SimulateErrorCode, message: string) {
    super(L2ExecErrorCode.SimulateRefused, message, { details: { rpcCode } });
    this.name = "SimulateError";
    this.rpcCode = rpcCode;
  }
}
