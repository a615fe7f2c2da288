/**
 * eth_simulateV1 on a chain reached only through a `CallEngineSource` (the RPC worker threads,
 * ADR 0133): the base block's post-state is opened on the source's trie nodes and `simulate`
 * runs on an in-memory overlay of it, so nothing is kept.
 */
import { createBlock, createBlockHeaderFromRLP } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import type { CallEngineSource } from "../callEngine.ts";
import { createChainCommon } from "../chainConfig.ts";
import { blockCommon } from "../chainState.ts";
import { type ChainLevel, NodeStore, STATE_PREFIX } from "../nodeStore.ts";
import { openStateView } from "../stateView.ts";
import type { StoredGenesis } from "../writeGenesis.ts";
import { type SimulatedBlock, type SimulateOptions, simulate } from "./simulate.ts";
import { SimulateError, SimulateErrorCode } from "./simulateErrors.ts";

export type SimulateJob = SimulateOptions & {
  /** RLP of the base block's header (the state the first simulated block runs on). */
  header: Uint8Array;
  /** Wall-clock limit, checked between calls (the pool's worker timeout is the hard stop). */
  timeoutMs: number;
};

export type SimulateEngine = { simulate(job: SimulateJob): Promise<SimulatedBlock[]> };

export function createSimulateEngine(
  opts: { genesisJson: string; nodeCacheSize?: number },
  source: CallEngineSource,
): SimulateEngine {
  const stored = JSON.parse(opts.genesisJson) as StoredGenesis;
  const common = createChainCommon(stored.genesis);
  const commons = new Map<string, Common>();
  const db = {
    get: async (key: Uint8Array): Promise<Uint8Array | undefined> =>
      key[0] === STATE_PREFIX ? source.readNode(Buffer.from(key.subarray(1)).toString("hex")) : undefined,
  } as unknown as ChainLevel;
  const store = new NodeStore(db, opts.nodeCacheSize ?? 100_000);
  const commonAt = (number: bigint, timestamp: bigint): Common =>
    blockCommon({ common, commons }, number, timestamp);
  return {
    async simulate(job: SimulateJob): Promise<SimulatedBlock[]> {
      const probe = createBlockHeaderFromRLP(job.header, {
        common,
        setHardfork: true,
        skipConsensusFormatValidation: true,
      });
      const c = commonAt(probe.number, probe.timestamp);
      const header = createBlockHeaderFromRLP(job.header, { common: c, skipConsensusFormatValidation: true });
      const base = createBlock(
        { header: header.toJSON() },
        { common: c, skipConsensusFormatValidation: true },
      );
      const view = openStateView(c, store, header.stateRoot);
      const deadline = performance.now() + job.timeoutMs;
      return simulate(
        {
          base,
          stateManager: view.stateManager,
          commonAt,
          canonicalHash: (n) =>
            n === header.number ? Promise.resolve(header.hash()) : source.canonicalHash(n),
          check: () => {
            if (performance.now() > deadline)
              throw new SimulateError(
                SimulateErrorCode.Server,
                `execution aborted (timeout = ${job.timeoutMs / 1000}s)`,
              );
          },
        },
        job,
      );
    },
  };
}
