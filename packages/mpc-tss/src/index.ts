export { decodeMessage, encodeMessage } from "./codec.ts";
export { createDkgState, stepDkg } from "./dkg/dkgCore.ts";
export {
  type DkgModules,
  type DkgOptions,
  DkgSession,
  defaultDkgOptions,
  runDkg,
} from "./dkg/dkgSession.ts";
export { DkgStatement, dkgSessionId } from "./dkg/dkgStatements.ts";
export {
  type DkgCoreConfig,
  type DkgEffect,
  type DkgExclusion,
  DkgExclusionReason,
  type DkgInput,
  DkgPhase,
  type DkgResult,
  type DkgState,
  type DkgStepResult,
} from "./dkg/dkgTypes.ts";
export { isProofOfKnowledgeValid, isShareValid } from "./dkg/proofs.ts";
export { TssError, TssErrorCode } from "./errors.ts";
export {
  createPartyKey,
  isPartyId,
  type PartyId,
  type PartyKey,
  partyPublicKey,
  signStatement,
  sortMembers,
  verifyStatement,
} from "./identity.ts";
export { type GroupInfo, type KeyShare, toFrostPublic, toFrostSecret } from "./keyShare.ts";
export {
  CHALLENGE_DST,
  type L1Signature,
  l1Challenge,
  l1CompactSignatureBytes,
  l1EcrecoverInputs,
  l1SignatureBytes,
  toL1Signature,
  verifyL1Signature,
} from "./l1.ts";
export { MAX_MESSAGE_BYTES, RefuseReason, type TssMessage } from "./messages.ts";
export { createTssMetrics, type TssMetrics } from "./metrics.ts";
export {
  type CoordinatorModules,
  type CoordinatorOptions,
  SignExclusionReason,
  SigningCoordinator,
  type SignRequest,
  type SignResult,
} from "./sign/coordinator.ts";
export {
  type ApproveFn,
  type KeyShareSource,
  keyShareSource,
  type SignContext,
  Signer,
  type SignerModules,
  type SignerOptions,
} from "./sign/signer.ts";
export {
  defaultScryptParams,
  KeyShareStore,
  type KeyShareStoreOptions,
  type ScryptParams,
} from "./store/keyShareStore.ts";
export { type NonceCommitmentRecord, NonceStore, type NonceStoreOptions } from "./store/nonceStore.ts";
export { CONTEXT_STRING, frost, type Rng, thresholdFor } from "./suite.ts";
export {
  type DkgFaultContext,
  type DkgFaults,
  type SignerFaults,
  withDkgFaults,
  withSignerFaults,
} from "./transport/faultyTransport.ts";
export {
  createTestNetwork,
  seededRandom,
  type TestNetwork,
  type TestNetworkOptions,
  type TestNetworkStats,
} from "./transport/testNetwork.ts";
export type { TransportMessage, TssTransport } from "./transport/transport.ts";
