export { preconfViolation } from "./check.ts";
export { verifyFragmentEvidence } from "./evidence.ts";
export { txsOnPrefix } from "./failover.ts";
export { createPreconfFeed, preconfirmationOf } from "./feed.ts";
export { preconfFromSigned, preconfFromWire } from "./fromWire.ts";
export { createOutcomeBook, type OutcomeBook, outcomeHooks, type TxOutcomeSink } from "./outcomes.ts";
export { createPreconfirmedState, type PreconfirmedBuild, type PreconfirmedState } from "./pendingState.ts";
export { preconfReceiptJson } from "./receipt.ts";
export {
  createPreconfService,
  defaultPreconfServiceOptions,
  type PreconfService,
  type PreconfServiceOptions,
} from "./service.ts";
export {
  type AddResult,
  createPreconfStore,
  defaultPreconfStoreOptions,
  type FragmentEvidence,
  type PreconfFragment,
  type PreconfPrefix,
  type PreconfStore,
  type PreconfStoreOptions,
  type TxPosition,
} from "./store.ts";
