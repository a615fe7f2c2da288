import { DseqError, type DseqErrorOptions } from "@dseq/common";

/**
 * Stable codes of admission failures. Each maps to the sentence geth returns for the same
 * failure (core/txpool/errors.go, core/error.go, core/types), because wallets and libraries
 * match on those sentences; callers in dseq match on `code`.
 */
export const TxPoolErrorCode = {
  AlreadyKnown: "TXPOOL_ALREADY_KNOWN",
  InvalidSender: "TXPOOL_INVALID_SENDER",
  InvalidChainId: "TXPOOL_INVALID_CHAIN_ID",
  Unprotected: "TXPOOL_UNPROTECTED",
  Underpriced: "TXPOOL_UNDERPRICED",
  GasPriceTooLow: "TXPOOL_GAS_PRICE_TOO_LOW",
  ReplaceUnderpriced: "TXPOOL_REPLACEMENT_UNDERPRICED",
  AccountLimitExceeded: "TXPOOL_ACCOUNT_LIMIT_EXCEEDED",
  PoolFull: "TXPOOL_FULL",
  GasLimit: "TXPOOL_EXCEEDS_BLOCK_GAS_LIMIT",
  OversizedData: "TXPOOL_OVERSIZED_DATA",
  TxTypeNotSupported: "TXPOOL_TX_TYPE_NOT_SUPPORTED",
  NonceTooLow: "TXPOOL_NONCE_TOO_LOW",
  NonceMax: "TXPOOL_NONCE_MAX",
  InsufficientFunds: "TXPOOL_INSUFFICIENT_FUNDS",
  IntrinsicGas: "TXPOOL_INTRINSIC_GAS_TOO_LOW",
  FloorDataGas: "TXPOOL_FLOOR_DATA_GAS",
  TipAboveFeeCap: "TXPOOL_TIP_ABOVE_FEE_CAP",
  MaxInitCodeSize: "TXPOOL_MAX_INITCODE_SIZE_EXCEEDED",
  EmptyAuthList: "TXPOOL_EMPTY_AUTH_LIST",
  SetCodeCreate: "TXPOOL_SET_CODE_TX_CREATE",
  InflightTxLimit: "TXPOOL_INFLIGHT_TX_LIMIT",
  OutOfOrderFromDelegated: "TXPOOL_GAPPED_NONCE_FROM_DELEGATED",
  AuthorityReserved: "TXPOOL_AUTHORITY_RESERVED",
  InvalidEncoding: "TXPOOL_INVALID_ENCODING",
  NotStarted: "TXPOOL_NOT_STARTED",
} as const;

export type TxPoolErrorCode = (typeof TxPoolErrorCode)[keyof typeof TxPoolErrorCode];

/**
 * geth's base sentences. Where geth wraps one with details (`"%w: next nonce %v, tx nonce %v"`)
 * the message carries the same wrapping, so it starts with the base sentence.
 */
export const GETH_MESSAGES: Record<TxPoolErrorCode, string> = {
  TXPOOL_ALREADY_KNOWN: "already known",
  TXPOOL_INVALID_SENDER: "invalid sender",
  TXPOOL_INVALID_CHAIN_ID: "invalid sender: invalid chain id for signer",
  TXPOOL_UNPROTECTED: "only replay-protected (EIP-155) transactions allowed over RPC",
  TXPOOL_UNDERPRICED: "transaction underpriced",
  TXPOOL_GAS_PRICE_TOO_LOW: "transaction gas price below minimum",
  TXPOOL_REPLACEMENT_UNDERPRICED: "replacement transaction underpriced",
  TXPOOL_ACCOUNT_LIMIT_EXCEEDED: "account limit exceeded",
  TXPOOL_FULL: "txpool is full",
  TXPOOL_EXCEEDS_BLOCK_GAS_LIMIT: "exceeds block gas limit",
  TXPOOL_OVERSIZED_DATA: "oversized data",
  TXPOOL_TX_TYPE_NOT_SUPPORTED: "transaction type not supported",
  TXPOOL_NONCE_TOO_LOW: "nonce too low",
  TXPOOL_NONCE_MAX: "nonce has max value",
  TXPOOL_INSUFFICIENT_FUNDS: "insufficient funds for gas * price + value",
  TXPOOL_INTRINSIC_GAS_TOO_LOW: "intrinsic gas too low",
  TXPOOL_FLOOR_DATA_GAS: "insufficient gas for floor data gas cost",
  TXPOOL_TIP_ABOVE_FEE_CAP: "max priority fee per gas higher than max fee per gas",
  TXPOOL_MAX_INITCODE_SIZE_EXCEEDED: "max initcode size exceeded",
  TXPOOL_EMPTY_AUTH_LIST: "set code tx must have at least one authorization tuple",
  TXPOOL_SET_CODE_TX_CREATE: "EIP-7702 transaction cannot be used to create contract",
  TXPOOL_INFLIGHT_TX_LIMIT: "in-flight transaction limit reached for delegated accounts",
  TXPOOL_GAPPED_NONCE_FROM_DELEGATED: "gapped-nonce tx from delegated accounts",
  TXPOOL_AUTHORITY_RESERVED: "authority already reserved",
  TXPOOL_INVALID_ENCODING: "rlp: invalid transaction encoding",
  TXPOOL_NOT_STARTED: "txpool not started",
};

/** An admission failure: `code` is stable, `message` is what geth would say (the rpc layer returns it). */
export class TxPoolError extends DseqError {
  declare readonly code: TxPoolErrorCode;

  /** `detail` is appended the way geth wraps errors: `"<base>: <detail>"`. */
  constructor(code: TxPoolErrorCode, detail?: string, opts: DseqErrorOptions = {}) {
    const base = GETH_MESSAGES[code];
    super(code, detail ? `${base}: ${detail}` : base, opts);
    this.name = "TxPoolError";
  }
}

export function isTxPoolError(err: unknown, code?: TxPoolErrorCode): err is TxPoolError {
  return err instanceof TxPoolError && (code === undefined || err.code === code);
}

/**
 * Codes of the pool's failures outside admission (admission codes above carry geth's
 * sentences, these do not).
 */
export const TxPoolConfigErrorCode = {
  BadOptions: "TXPOOL_BAD_OPTIONS",
} as const;

export type TxPoolConfigErrorCode = (typeof TxPoolConfigErrorCode)[keyof typeof TxPoolConfigErrorCode];

/** Options that cannot work (thrown by the `TxPool` constructor). */
export class TxPoolConfigError extends DseqError {
  declare readonly code: TxPoolConfigErrorCode;

  constructor(code: TxPoolConfigErrorCode, message: string, opts: DseqErrorOptions = {}) {
    super(code, message, opts);
    this.name = "TxPoolConfigError";
  }
}
