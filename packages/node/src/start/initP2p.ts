import type { Logger, Metrics } from "@dseq/common";
import { type BlockSource, createP2pHost, type P2pHost, type ValidatorSetView } from "@dseq/p2p";
import type { NodeConfig } from "../config.ts";
import { NodeStartError, type Started } from "./started.ts";

/**
 * 4. The libp2p host: identity from the node key, bound to the chain id and genesis; the node
 * says which addresses are validators (asked on every lookup) and serves its blocks.
 */
export async function initP2p(
  config: NodeConfig,
  chain: { chainId: bigint; genesisHash: Uint8Array; maxBlockBytes: number },
  m: {
    privateKey: Uint8Array;
    logger: Logger;
    metrics: Metrics;
    validators: ValidatorSetView;
    blocks: BlockSource;
  },
): Promise<Started<P2pHost>> {
  let p2p: P2pHost;
  try {
    p2p = await createP2pHost(
      {
        privateKey: m.privateKey,
        chainId: chain.chainId,
        genesisHash: chain.genesisHash,
        listen: config.p2p.listen,
        bootstrap: config.p2p.bootstrap,
        staticPeers: config.p2p.bootstrap,
        maxConnections: config.p2p.maxConnections,
        maxBlockBytes: chain.maxBlockBytes,
      },
      { logger: m.logger, metrics: m.metrics, validators: m.validators, blocks: m.blocks },
    );
  } catch (err) {
    throw new NodeStartError(
      `cannot start p2p on ${config.p2p.listen.join(", ")}: ${(err as Error).message}`,
      err,
    );
  }
  return { module: p2p, stop: () => p2p.stop() };
}
