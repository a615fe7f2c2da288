import { bytesToHex, DseqError, type Hex, hexToBytes } from "@dseq/common";

/** JSON-RPC 2.0 and geth error codes. Clients match on these, never on message text. */
export const RpcErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  Internal: -32603,
  /** geth's errcodeDefault: a server-side failure that is not a protocol error. */
  Server: -32000,
  /** geth: notifications (subscriptions) are not supported on this transport. */
  NotificationsUnsupported: -32001,
  Timeout: -32002,
  ResponseTooLarge: -32003,
  /** A client limit hit (block range, result count). */
  LimitExceeded: -32005,
  /** EIP-1474 / geth: execution reverted, with the revert data in `data`. */
  ExecutionReverted: 3,
} as const;
export type RpcErrorCode = (typeof RpcErrorCode)[keyof typeof RpcErrorCode];

/**
 * The `DseqError.code` of each RPC error (stable strings for logs and callers); the JSON-RPC
 * number that goes on the wire is `RpcError.rpcCode`.
 */
export const RpcDseqCode = {
  ParseError: "RPC_PARSE_ERROR",
  InvalidRequest: "RPC_INVALID_REQUEST",
  MethodNotFound: "RPC_METHOD_NOT_FOUND",
  InvalidParams: "RPC_INVALID_PARAMS",
  Internal: "RPC_INTERNAL",
  Server: "RPC_SERVER",
  NotificationsUnsupported: "RPC_NOTIFICATIONS_UNSUPPORTED",
  Timeout: "RPC_TIMEOUT",
  ResponseTooLarge: "RPC_RESPONSE_TOO_LARGE",
  LimitExceeded: "RPC_LIMIT_EXCEEDED",
  ExecutionReverted: "RPC_EXECUTION_REVERTED",
  /** A parameter that does not parse (`ParamError`; answered with InvalidParams). */
  BadParam: "RPC_BAD_PARAM",
  /** A JSON-RPC code outside `RpcErrorCode`. */
  Other: "RPC_OTHER",
} as const;
export type RpcDseqCode = (typeof RpcDseqCode)[keyof typeof RpcDseqCode];

const DSEQ_CODE_OF = new Map<number, RpcDseqCode>(
  Object.entries(RpcErrorCode).map(([name, rpcCode]) => [
    rpcCode,
    RpcDseqCode[name as keyof typeof RpcErrorCode],
  ]),
);

/**
 * An error that goes on the wire as a JSON-RPC error object. Handlers throw it; anything else
 * they throw becomes -32000 with its message (geth's habit) or -32603 when it is a bug.
 */
export class RpcError extends DseqError {
  override readonly code: RpcDseqCode;
  /** The JSON-RPC error code sent to the client. */
  readonly rpcCode: number;
  readonly data: unknown;

  constructor(rpcCode: number, message: string, data?: unknown) {
    const code = DSEQ_CODE_OF.get(rpcCode) ?? RpcDseqCode.Other;
    super(code, message, { details: { rpcCode } });
    this.name = "RpcError";
    this.code = code;
    this.rpcCode = rpcCode;
    this.data = data;
  }

  /** The JSON-RPC error object, exactly as sent. */
  override toJSON(): { code: number; message: string; data?: unknown } {
    return this.data === undefined
      ? { code: this.rpcCode, message: this.message }
      : { code: this.rpcCode, message: this.message, data: this.data };
  }
}

export function invalidParams(message: string): RpcError {
  return new RpcError(RpcErrorCode.InvalidParams, message);
}

export function methodNotFound(method: string): RpcError {
  return new RpcError(RpcErrorCode.MethodNotFound, `the method ${method} does not exist/is not available`);
}

/** geth's panic reasons for `Panic(uint256)` revert data (accounts/abi.UnpackRevert). */
const PANIC_REASONS: Record<number, string> = {
  0: "generic panic",
  1: "assert(false)",
  17: "arithmetic underflow or overflow",
  18: "division or modulo by zero",
  33: "enum overflow",
  34: "invalid encoded storage byte array accessed",
  49: "out-of-bounds array access; popping on an empty array",
  50: "out-of-bounds access of an array or bytesN",
  65: "out of memory",
  81: "uninitialized function",
};

/** Decodes `Error(string)` or `Panic(uint256)` revert data the way geth does; undefined if neither. */
export function decodeRevertReason(data: Uint8Array): string | undefined {
  if (data.length < 4) return undefined;
  const selector = bytesToHex(data.subarray(0, 4));
  if (selector === "0x08c379a0") {
    if (data.length < 4 + 64) return undefined;
    const offset = readWordAsNumber(data, 4);
    if (offset === undefined) return undefined;
    const lenPos = 4 + offset;
    const len = readWordAsNumber(data, lenPos);
    if (len === undefined || lenPos + 32 + len > data.length) return undefined;
    return new TextDecoder().decode(data.subarray(lenPos + 32, lenPos + 32 + len));
  }
  if (selector === "0x4e487b71") {
    if (data.length !== 4 + 32) return undefined;
    const code = BigInt(bytesToHex(data.subarray(4, 36)));
    const known = code <= 0xffn ? PANIC_REASONS[Number(code)] : undefined;
    return known ?? `unknown panic code: 0x${code.toString(16)}`;
  }
  return undefined;
}

function readWordAsNumber(data: Uint8Array, pos: number): number | undefined {
  if (pos + 32 > data.length) return undefined;
  const v = BigInt(bytesToHex(data.subarray(pos, pos + 32)));
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v);
}

/** geth's revertError: code 3, "execution reverted[: reason]", data = the revert bytes. */
export function executionReverted(returnData: Hex): RpcError {
  const reason = decodeRevertReason(hexToBytes(returnData));
  const message = reason === undefined ? "execution reverted" : `execution reverted: ${reason}`;
  return new RpcError(RpcErrorCode.ExecutionReverted, message, returnData);
}
