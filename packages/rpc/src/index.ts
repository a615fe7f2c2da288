export { defaultMethodOptions, type MethodOptions } from "./context.ts";
export { Dispatcher, type DispatcherOptions, defaultDispatcherOptions } from "./dispatcher.ts";
export {
  decodeRevertReason,
  executionReverted,
  invalidParams,
  RpcDseqCode,
  RpcError,
  RpcErrorCode,
} from "./errors.ts";
export { FilterManager } from "./filters.ts";
export {
  effectiveGasPrice,
  formatBlock,
  formatBlockReceipts,
  formatHeader,
  formatLog,
  formatReceipt,
  formatTransaction,
  type Json,
  type JsonObject,
} from "./format.ts";
export { blobBaseFee, fakeExponential, nextBaseFee } from "./methods/fees.ts";
export { toChecksumAddress } from "./methods/node.ts";
export { preconfirmedReceipt, sendRawSyncMethods } from "./methods/sendRawSync.ts";
export { type BlockRef, type BlockTag, type LogFilter, ParamError } from "./params.ts";
export { type CallContext, type MethodDef, MethodRegistry, method, type Session } from "./registry.ts";
export {
  createRpcServer,
  defaultRpcServerOptions,
  hostAllowed,
  type ListenOptions,
  RpcServer,
  type RpcServerModules,
  type RpcServerOptions,
} from "./server.ts";
export {
  formatFlashblock,
  formatPreconfirmation,
  type Preconfirmation,
  type PreconfSource,
  SubscriptionManager,
} from "./subscriptions.ts";
export type * from "./types.ts";
