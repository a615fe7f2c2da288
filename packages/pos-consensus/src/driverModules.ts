import type { Clock, Hex, Logger, Metrics } from "@dseq/common";
import type { BlockFetcher, ConsensusApp, ConsensusNetwork } from "./consensusApp.ts";
import type { DoubleSignGuard } from "./doubleSignGuard.ts";
import type { Signer, VerifyFn } from "./signer.ts";
import type { CommitCertificate, Evidence, TimeoutStep } from "./types.ts";
import type { ValidatorSource } from "./validatorSet.ts";
import type { Wal } from "./wal.ts";

export type ConsensusEvents = {
  "consensus.committed": { height: number; round: number; blockHash: Hex; certificate: CommitCertificate };
  "consensus.newRound": { height: number; round: number };
  "consensus.evidence": { evidence: Evidence };
  "consensus.signRefused": { height: number; round: number; type: number; reason: string };
  "consensus.halted": { reason: string };
};

/** Named points where tests can make the driver "crash" (drop everything in memory). */
export type CrashPoint =
  | "input.beforeWal"
  | "input.afterWal"
  | "sign.beforeGuard"
  | "sign.afterGuard"
  | "sign.afterSign"
  | "broadcast.before"
  | "broadcast.after"
  | "commit.before"
  | "commit.afterApp"
  | "commit.afterEndHeight";

export type ConsensusDriverModules = {
  app: ConsensusApp;
  validators: ValidatorSource;
  network: ConsensusNetwork;
  fetcher: BlockFetcher;
  wal: Wal;
  /** Null for a node that follows without signing. */
  signer: Signer | null;
  guard: DoubleSignGuard | null;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  verify?: VerifyFn;
  /**
   * Optional: the duration of a timeout about to be scheduled (CometBFT lets the node tune
   * timeouts too). Only liveness depends on it. Return the given `ms` to keep it.
   */
  adjustTimeout?: (step: TimeoutStep, height: number, round: number, ms: number) => number;
  /** Test hook: throwing from it simulates a crash at that point. */
  crashHook?: (point: CrashPoint) => void;
};

/** Thrown by a crash hook; the driver stops at once, as if the process died. */
export class SimulatedCrash extends Error {
  constructor(point: string) {
    super(`simulated crash at ${point}`);
    this.name = "SimulatedCrash";
  }
}
