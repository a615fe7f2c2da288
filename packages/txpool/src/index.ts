export {
  type DecodeContext,
  type DecodedTx,
  decodeTransaction,
  recoverSenders,
  transactionHash,
} from "./decode.ts";
export { GETH_MESSAGES, isTxPoolError, TxPoolError, TxPoolErrorCode } from "./errors.ts";
export { effectiveTip, isReplacementPriced } from "./fees.ts";
export { TxJournal } from "./journal.ts";
export {
  BLOCK_HEADER_ALLOWANCE,
  defaultTxPoolOptions,
  effectiveMaxTxSize,
  type TxPoolOptions,
} from "./options.ts";
export { PendingTransactions } from "./ordering.ts";
export { defaultTxBatcherOptions, TxBatcher, type TxBatcherOptions } from "./txBatcher.ts";
export {
  type AddResult,
  type AdmitOptions,
  createTxPool,
  type PendingOptions,
  type PooledTxInfo,
  TxPool,
  type TxPoolContent,
  type TxPoolContentFrom,
  type TxPoolModules,
  type TxPoolStatus,
} from "./txPool.ts";
export type {
  AccountState,
  Address,
  PooledTx,
  PoolHead,
  RemovalReason,
  StateReader,
  TxPoolEvents,
} from "./types.ts";
