import { join } from "node:path";
import type { Hex, Logger, Metrics } from "@dseq/common";
import { type Chain, type ChainConfig, createChain } from "@dseq/l2-exec";
import type { ChainSpec } from "../chainSpec.ts";
import { NodeStartError, type Started } from "./started.ts";

/** l2-exec's genesis input from the chain spec (a pure mapping). */
export function chainConfigFromSpec(spec: ChainSpec): ChainConfig {
  return {
    chainId: BigInt(spec.chainId),
    gasLimit: BigInt(spec.genesis.gasLimit),
    baseFeePerGas: spec.genesis.baseFeePerGas,
    timestamp: BigInt(spec.genesis.timestamp),
    extraData: spec.genesis.extraData as Hex,
    alloc: Object.fromEntries(
      Object.entries(spec.genesis.alloc).map(([a, acc]) => [
        a,
        {
          balance: acc.balance,
          ...(acc.nonce === undefined ? {} : { nonce: BigInt(acc.nonce) }),
          ...(acc.code === undefined ? {} : { code: acc.code as Hex }),
          ...(acc.storage === undefined ? {} : { storage: acc.storage as Record<Hex, Hex> }),
        },
      ]),
    ),
  };
}

/**
 * 1. The chain store and EVM in `<dataDir>/chain`. Commits are fsynced (l2-exec's default):
 * the consensus WAL forgets a height once its commit returned. `maxBlockBytes` is a consensus
 * rule (chain spec); the Byzantine harness may raise it for its own builder.
 */
export async function initChain(
  dataDir: string,
  spec: ChainSpec,
  maxBlockBytes: number,
  m: { logger: Logger; metrics: Metrics },
): Promise<Started<Chain>> {
  const dir = join(dataDir, "chain");
  let chain: Chain;
  try {
    chain = await createChain({
      dataDir: dir,
      chainConfig: chainConfigFromSpec(spec),
      maxBlockBytes,
      logger: m.logger,
      metrics: m.metrics,
    });
  } catch (err) {
    throw new NodeStartError(
      `cannot open the chain store in ${dir} (corrupt, or used by another process?): ${(err as Error).message}`,
      err,
    );
  }
  return { module: chain, stop: () => chain.close() };
}
