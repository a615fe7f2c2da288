import { DseqError } from "@dseq/common";

/** Stable codes of the errors the devnet throws (match on `code`, never on message text). */
export const DevnetErrorCode = {
  AlreadyRunning: "DEVNET_ALREADY_RUNNING",
  BadOption: "DEVNET_BAD_OPTION",
  ControlRefused: "DEVNET_CONTROL_REFUSED",
  ControlUnreachable: "DEVNET_CONTROL_UNREACHABLE",
  Corrupt: "DEVNET_CORRUPT",
  Exists: "DEVNET_EXISTS",
  GenesisSetChanged: "DEVNET_GENESIS_SET_CHANGED",
  Internal: "DEVNET_INTERNAL",
  L1NeedsFresh: "DEVNET_L1_NEEDS_FRESH",
  L1NoOwner: "DEVNET_L1_NO_OWNER",
  L1TxFailed: "DEVNET_L1_TX_FAILED",
  L1UnknownSequencer: "DEVNET_L1_UNKNOWN_SEQUENCER",
  LoadNonce: "DEVNET_LOAD_NONCE",
  LoadNoAccounts: "DEVNET_LOAD_NO_ACCOUNTS",
  LoadNoRpc: "DEVNET_LOAD_NO_RPC",
  Mismatch: "DEVNET_MISMATCH",
  NodeExited: "DEVNET_NODE_EXITED",
  NodeNotReady: "DEVNET_NODE_NOT_READY",
  NotADevnetDir: "DEVNET_NOT_A_DEVNET_DIR",
  NotRunning: "DEVNET_NOT_RUNNING",
  NoL1: "DEVNET_NO_L1",
  NoPorts: "DEVNET_NO_PORTS",
  RpcError: "DEVNET_RPC_ERROR",
  Running: "DEVNET_RUNNING",
  SpawnFailed: "DEVNET_SPAWN_FAILED",
  TestbedAction: "DEVNET_TESTBED_ACTION",
  TestbedCommand: "DEVNET_TESTBED_COMMAND",
  TestbedConfig: "DEVNET_TESTBED_CONFIG",
  TestbedFaketime: "DEVNET_TESTBED_FAKETIME",
  TestbedGone: "DEVNET_TESTBED_GONE",
  TestbedNotRunning: "DEVNET_TESTBED_NOT_RUNNING",
  TestbedPlan: "DEVNET_TESTBED_PLAN",
  TestbedShape: "DEVNET_TESTBED_SHAPE",
  TestbedUnknownNode: "DEVNET_TESTBED_UNKNOWN_NODE",
  UnknownNode: "DEVNET_UNKNOWN_NODE",
  Usage: "DEVNET_USAGE",
} as const;
export type DevnetErrorCode = (typeof DevnetErrorCode)[keyof typeof DevnetErrorCode];

/** A bad command line: the CLI prints the message and the usage, and exits with 2. */
export class DevnetUsageError extends DseqError {
  constructor(message: string) {
    super(DevnetErrorCode.Usage, message);
    this.name = "DevnetUsageError";
  }
}

/** Anything else the devnet cannot do (a node did not start, no supervisor is running, ...). */
export class DevnetError extends DseqError {
  constructor(
    code: DevnetErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    cause?: unknown,
  ) {
    super(code, message, { details, cause });
    this.name = "DevnetError";
  }
}
