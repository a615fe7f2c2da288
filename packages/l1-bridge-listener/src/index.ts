export { type ApplyRangeOptions, type ApplyRangeResult, applyRange, type RangeRead } from "./applyRange.ts";
export { L1ErrorKind, L1ListenerError, L1ListenerErrorCode } from "./errors.ts";
export type { KvOp, KvStore } from "./kvStore.ts";
export {
  defaultL1BridgeListenerOptions,
  L1BridgeListener,
  type L1BridgeListenerModules,
  type L1BridgeListenerOptions,
  type L1ListenerEvents,
  type L1ListenerStatus,
} from "./l1BridgeListener.ts";
export {
  createL1Client,
  defaultL1ClientOptions,
  type L1Client,
  type L1ClientModules,
  type L1ClientOptions,
  type L1Endpoint,
} from "./l1Client.ts";
export { createLevelKvStore, type LevelLike, openLevelKvStore } from "./levelKvStore.ts";
export { listenerEventAbi } from "./listenerAbi.ts";
export {
  cursorOf,
  GENESIS_PARENT_HASH,
  initialListenerState,
  type ListenerState,
  type StoredBlock,
} from "./listenerState.ts";
export { decodeJson, encodeJson, readStoredEvents } from "./listenerStore.ts";
export { readRange } from "./readRange.ts";
export { type L1Reorg, rewindTo, walkBackCandidates } from "./rewind.ts";
export { type RotationStakeChange, toRotationStakeChange } from "./toRotationStakeChange.ts";
export type {
  DecodedL1Log,
  L1BlockHeader,
  L1Event,
  L1EventType,
  L1ListenerContracts,
  L1Provenance,
  L1StakeChange,
  L1StakeChangeKind,
} from "./types.ts";
