export { DEFAULT_MAX_BLOCK_BYTES } from "./blockBytes.ts";
export {
  type CallEngine,
  type CallEngineOptions,
  type CallEngineSource,
  type CallJob,
  createCallEngine,
} from "./callEngine.ts";
export { type BlockOverrides, nextBlockOverrides, withBlockOverrides } from "./callEnv.ts";
export type { CallSource } from "./callSource.ts";
export type {
  AuthorizationArg,
  CallArgs,
  CallOptions,
  CallResult,
  StateOverrides,
} from "./calls.ts";
export {
  type AccountInfo,
  type BlockRef,
  type BuildBlockOptions,
  type BuildResult,
  type BuildTxSource,
  Chain,
  type ChainEvents,
  type CommitExtra,
  type CreateChainOptions,
  defaultCreateChainOptions,
  type ExecuteResult,
  type LogFilter,
  type PendingState,
  type StateRef,
  type TxLookup,
} from "./chain.ts";
export {
  type ChainConfig,
  chainConfigToGethGenesis,
  createChainCommon,
  defaultChainConfig,
  type GenesisAccount,
  type Hex,
} from "./chainConfig.ts";
export { createChain, openChain } from "./createChain.ts";
export { L2ExecError, L2ExecErrorCode } from "./errors.ts";
export {
  type BlockTimings,
  type HeaderDifference,
  type IncludedTx,
  type SkippedTx,
  SkipReason,
} from "./execute.ts";
export { type L1Entry, L1EntryKind, l1EntriesToWithdrawals, withdrawalsToL1Entries } from "./l1Entries.ts";
export {
  decodeReceipt,
  effectiveGasPrice,
  type LogInfo,
  type PendingReceipt,
  pendingReceipt,
  type ReceiptInfo,
} from "./receipts.ts";
export {
  MAX_SIMULATE_BLOCKS,
  type SimBlockInput,
  type SimCallResult,
  type SimLog,
  type SimStateOverride,
  type SimulatedBlock,
  type SimulateOptions,
} from "./simulate/simulate.ts";
export { createSimulateEngine, type SimulateEngine, type SimulateJob } from "./simulate/simulateEngine.ts";
export { SimulateError, SimulateErrorCode } from "./simulate/simulateErrors.ts";
export { CallTracer, type CallTracerConfig } from "./trace/callTracer.ts";
export { createTracer, TRACER_NAMES, type TracerName, type TracerOptions } from "./trace/createTracer.ts";
export { attachEvmHooks, gethError } from "./trace/evmHooks.ts";
export { FlatCallTracer, type FlatCallTracerConfig, type FlatContext } from "./trace/flatCallTracer.ts";
export { FourByteTracer, NoopTracer } from "./trace/fourByteTracer.ts";
export type { FrameType, LogEntry, OpcodeStep, Tracer, TxEnv } from "./trace/hooks.ts";
export { PrestateTracer, type PrestateTracerConfig } from "./trace/prestateTracer.ts";
export { StructLogger, type StructLoggerConfig } from "./trace/structLogger.ts";
export type { TraceCallJob } from "./trace/traceCall.ts";
export {
  createTraceEngine,
  type TraceEngine,
  type TraceEngineOptions,
  type TraceJob,
  type TraceJobResult,
} from "./trace/traceEngine.ts";
export { TraceError, TraceErrorCode } from "./trace/traceErrors.ts";
export { activePrecompiles, type TraceTxOptions, type TraceTxResult, traceTx } from "./trace/traceTx.ts";
export { EMPTY_TRIE_ROOT, orderedTrieRoot, type TrieEntry, trieRoot } from "./trieRoot.ts";
