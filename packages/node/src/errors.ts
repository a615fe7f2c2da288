import { DseqError, type DseqErrorOptions } from "@dseq/common";

/**
 * Stable codes of the errors the node throws (match on `code`, never on message text). The
 * subsystems with tables of their own are re-exported below: the TSS service
 * (`tss/tssErrors.ts`), the RPC's EVM pool (`rpc/callPoolErrors.ts`) and derivation
 * (`derive/errors.ts`).
 */
export const NodeErrorCode = {
  // configuration and chain spec (ConfigError, ChainSpecError)
  ConfigInvalid: "CONFIG_INVALID",
  ChainSpecInvalid: "CHAIN_SPEC_INVALID",
  // keys (KeystoreError and the key file)
  KeystoreCorrupt: "KEYSTORE_CORRUPT",
  KeystoreBadKdfParams: "KEYSTORE_BAD_KDF_PARAMS",
  KeystoreBadKey: "KEYSTORE_BAD_KEY",
  KeystoreUnsupported: "KEYSTORE_UNSUPPORTED",
  KeystoreWrongPassword: "KEYSTORE_WRONG_PASSWORD",
  KeyExists: "KEY_EXISTS",
  KeyMissing: "KEY_MISSING",
  // the `dseq` command line
  CliUsage: "CLI_USAGE",
  CliAborted: "CLI_ABORTED",
  CliNoPassword: "CLI_NO_PASSWORD",
  CliPasswordFile: "CLI_PASSWORD_FILE",
  CliPasswordEmpty: "CLI_PASSWORD_EMPTY",
  CliPasswordMismatch: "CLI_PASSWORD_MISMATCH",
  CliKeyFile: "CLI_KEY_FILE",
  CliBadKey: "CLI_BAD_KEY",
  CliExists: "CLI_EXISTS",
  CliStatus: "CLI_STATUS",
  // start-up and the running node
  Start: "NODE_START",
  NoPassword: "NODE_NO_PASSWORD",
  NoGenesis: "NODE_NO_GENESIS",
  StoreInconsistent: "NODE_STORE_INCONSISTENT",
  Submit: "NODE_SUBMIT",
  App: "NODE_APP",
  SyncBadAnswer: "NODE_SYNC_BAD_ANSWER",
  // what peers send (decoded strictly; these never leave a handler)
  BadEnvelope: "CONSENSUS_BAD_ENVELOPE",
  BlockExtraInvalid: "BLOCK_EXTRA_INVALID",
  FragmentTooBig: "FRAGMENT_TOO_BIG",
  FragmentInvalid: "FRAGMENT_INVALID",
  EvidenceInvalid: "EVIDENCE_INVALID",
} as const;
export type NodeErrorCode = (typeof NodeErrorCode)[keyof typeof NodeErrorCode];

/** The node's error; the narrower classes (ConfigError, KeystoreError, ...) extend it. */
export class NodeError extends DseqError {
  override readonly code: NodeErrorCode;
  constructor(code: NodeErrorCode, message: string, opts: DseqErrorOptions = {}) {
    super(code, message, opts);
    this.name = "NodeError";
    this.code = code;
  }
}

export { DeriveError, DeriveErrorCode } from "./derive/errors.ts";
export { CallPoolError, CallPoolErrorCode } from "./rpc/callPoolErrors.ts";
export { NodeTssError, NodeTssErrorCode } from "./tss/tssErrors.ts";
