export {
  type DeployL1ContractsOptions,
  defaultL1DeployParams,
  deployL1Contracts,
  type L1Deployment,
  type L1DeployParams,
  readL1Deployment,
  writeL1Deployment,
} from "./deploy.ts";
export {
  DEV_MNEMONIC,
  type DevL1,
  type DevL1Account,
  type DevL1Options,
  devL1Accounts,
  increaseTime,
  rpc,
  startDevL1,
} from "./devL1.ts";
export { L1ContractsError, L1ContractsErrorCode } from "./errors.ts";
export {
  BatchInboxArtifact,
  compilerSettings,
  DepositBridgeArtifact,
  DseqTokenArtifact,
  FrostVerifierHarnessArtifact,
  LockingPoolArtifact,
} from "./generated/artifacts.ts";
export {
  BatchDataKind,
  type BatchHeader,
  batchDigest,
  batchHash,
  blobHashesDigest,
  type L1Domain,
  type RewardCheckpoint,
  rewardsDigest,
  rotationDigest,
} from "./messages.ts";
