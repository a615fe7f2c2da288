export {
  decodeCertificate,
  decodeConsensusMessage,
  decodeJson,
  encodeCertificate,
  encodeConsensusMessage,
  encodeJson,
  isMessageShape,
  MAX_CERTIFICATE_BYTES,
  MAX_CONSENSUS_MESSAGE_BYTES,
} from "./codec.ts";
export {
  type CertificateCheck,
  certificateVotes,
  checkCommitted,
  makeCommitCertificate,
  verifyCommitCertificate,
} from "./commitCertificate.ts";
export {
  type BlockEntry,
  type ConsensusEffect,
  type ConsensusInput,
  ConsensusInvariantError,
  type ConsensusState,
  type CoreConfig,
  createHeightState,
  type Decision,
  defaultMaxRoundsAhead,
  type RejectReason,
  type RoundVotes,
  resumeEffects,
  type StepResult,
  step,
  timeoutFor,
} from "./consensusCore.ts";
export {
  type BlockFetcher,
  type ConsensusApp,
  ConsensusDriver,
  type ConsensusDriverModules,
  type ConsensusDriverOptions,
  type ConsensusEvents,
  type ConsensusNetwork,
  type CrashPoint,
  defaultConsensusDriverOptions,
  SimulatedCrash,
  type ValidateResult,
  type Verdict,
} from "./consensusDriver.ts";
export {
  DoubleSignError,
  DoubleSignGuard,
  fileGuardStore,
  type GuardStore,
  type LastSigned,
  memoryGuardStore,
  SignStep,
  signStepOf,
} from "./doubleSignGuard.ts";
export { ConsensusError, ConsensusErrorCode } from "./errors.ts";
export {
  conflictingCommitEvidence,
  evidenceKey,
  verifyEvidence,
  verifyProposalSignature,
} from "./evidence.ts";
export { EvidencePool } from "./evidencePool.ts";
export { FutureBuffer, type FutureBufferOptions, messageKey, SeenSet } from "./inputBuffer.ts";
export { proposalSignBytes, SIGN_BYTES_LENGTH, SIGN_DOMAIN, signBytes, voteSignBytes } from "./signBytes.ts";
export {
  createCachedVerifier,
  createKeySigner,
  normalizePublicKey,
  publicKeyToValidatorAddress,
  type Signer,
  type VerifyFn,
  verifySignature,
} from "./signer.ts";
export {
  type Block,
  type CommitCertificate,
  type ConsensusMessage,
  defaultTimeouts,
  type Evidence,
  MsgType,
  type Proposal,
  Step,
  type TimeoutConfig,
  type TimeoutStep,
  type UnsignedProposal,
  type UnsignedVote,
  type Vote,
  type VoteType,
} from "./types.ts";
export {
  createStaticValidatorSource,
  type HeightValidators,
  type ProposerOrder,
  staticHeightValidators,
  type Validator,
  type ValidatorInput,
  ValidatorSet,
  type ValidatorSource,
} from "./validatorSet.ts";
export { type AddVoteResult, MAX_CONFLICTING_VOTES, VoteSet, valueKey, verifyVote } from "./voteSet.ts";
export {
  decodeWalFrames,
  encodeWalRecord,
  FileWal,
  MemoryWal,
  type UndecodableWalRecord,
  type Wal,
  type WalEntry,
  type WalRecord,
} from "./wal.ts";
