import type { Logger, Metrics } from "@dseq/common";
import type { GethGenesis } from "@ethereumjs/common";
import { DEFAULT_MAX_BLOCK_BYTES } from "./blockBytes.ts";
import type { ChainConfig } from "./chainConfig.ts";

export type CreateChainOptions = {
  /** Directory of the LevelDB store (created when missing). */
  dataDir: string;
  /** A dseq L2 chain (Prague, no blob transactions). */
  chainConfig?: ChainConfig;
  /** Any geth-format genesis (its config decides the rules; no L2 policy). */
  genesis?: GethGenesis;
  logger?: Logger;
  metrics?: Metrics;
  /**
   * fsync every commit batch (default true): a decided block is on disk when `commit`
   * resolves, so a power cut cannot lose it after consensus moved on (the driver compacts its
   * WAL once a commit returns). `false` only for tests and benchmarks: a killed process still
   * loses nothing, a power cut may lose the last commits.
   */
  syncWrites?: boolean;
  /**
   * Largest block, `block.serialize()` in bytes (default 2 MiB). A consensus rule: `buildBlock`
   * never exceeds it and `executeBlock` reports a larger block as invalid.
   */
  maxBlockBytes?: number;
  /** State-trie nodes kept in memory (shared by all state views). Default 200,000 (~100 MB). */
  stateCacheSize?: number;
  /** Use the pure-JS crypto in @ethereumjs (benchmarks only). */
  nobleCrypto?: boolean;
};

/** Defaults of `CreateChainOptions` (the fields that have one). */
export const defaultCreateChainOptions = {
  syncWrites: true,
  maxBlockBytes: DEFAULT_MAX_BLOCK_BYTES,
  stateCacheSize: 200_000,
} as const satisfies Partial<CreateChainOptions>;
