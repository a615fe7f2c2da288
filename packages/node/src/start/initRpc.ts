import type { EventBus, Hex, Logger, Metrics } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import { createRpcServer, type RpcEventMap, type RpcServer, type SyncStatus } from "@dseq/rpc";
import type { TxPool } from "@dseq/txpool";
import type { ChainSpec } from "../chainSpec.ts";
import type { NodeConfig } from "../config.ts";
import type { PreconfirmedState } from "../preconf/index.ts";
import { CallPool } from "../rpc/callPool.ts";
import { chainReader, txPoolView } from "../rpcBackend.ts";
import { type DseqMethodsView, registerDseqMethods } from "./dseqMethods.ts";
import { listenError, type Started } from "./started.ts";

export type RpcDeps = {
  chain: Chain;
  pool: TxPool;
  events: EventBus<RpcEventMap>;
  submitRawTransaction: (raw: Uint8Array) => Promise<Hex>;
  syncing: () => SyncStatus;
  peerCount: () => number;
  dseq: DseqMethodsView;
  /** `pending` calls run after the preconfirmed transactions (ADR 0176). */
  preconfirmed?: PreconfirmedState;
  logger: Logger;
  metrics: Metrics;
};

/**
 * 7. JSON-RPC over HTTP and WebSocket, listening when this returns (a port in use fails the
 * start before consensus runs). eth_call and friends run in worker threads, never on the
 * consensus thread (ADR 0130).
 */
export async function initRpc(
  config: NodeConfig,
  spec: ChainSpec,
  d: RpcDeps,
): Promise<Started<RpcServer> & { endpoints: { rpcHttp?: string; rpcWs?: string } }> {
  const callPool = new CallPool(
    {},
    { source: await d.chain.callSource(), logger: d.logger.child({ module: "rpc-evm" }), metrics: d.metrics },
  );
  await callPool.start();
  const rpc = createRpcServer(
    {
      http: config.rpc.http.enabled ? { host: config.rpc.http.host, port: config.rpc.http.port } : false,
      ws: config.rpc.ws.enabled ? { host: config.rpc.ws.host, port: config.rpc.ws.port } : false,
      corsOrigins: config.rpc.cors,
      maxBodyBytes: config.rpc.maxBodyBytes,
      maxBatchSize: config.rpc.maxBatch,
      requestTimeoutMs: config.rpc.timeoutMs,
      maxLogsBlockRange: config.rpc.getLogsMaxRange,
      preconfirmedReceipts: config.rpc.preconfirmedReceipts,
      clientVersion: "dseq/v0.1.0",
    },
    {
      backend: {
        chain: chainReader(d.chain, {
          callPool,
          blockTimeMs: spec.blockTimeMs,
          ...(d.preconfirmed ? { preconfirmed: d.preconfirmed } : {}),
        }),
        txpool: txPoolView(d.pool),
        events: d.events,
        submitRawTransaction: d.submitRawTransaction,
        syncing: d.syncing,
        peerCount: d.peerCount,
      },
      logger: d.logger,
      metrics: d.metrics,
    },
  );
  registerDseqMethods(rpc, d.dseq);
  try {
    await rpc.start();
  } catch (err) {
    await callPool.stop();
    const host = config.rpc.http.enabled ? config.rpc.http.host : config.rpc.ws.host;
    const port = config.rpc.http.enabled ? config.rpc.http.port : config.rpc.ws.port;
    throw listenError("RPC", host, port, err);
  }
  const endpoints: { rpcHttp?: string; rpcWs?: string } = {};
  if (config.rpc.http.enabled) endpoints.rpcHttp = `http://${config.rpc.http.host}:${config.rpc.http.port}`;
  if (config.rpc.ws.enabled) endpoints.rpcWs = `ws://${config.rpc.ws.host}:${config.rpc.ws.port}`;
  return {
    module: rpc,
    endpoints,
    stop: async () => {
      await rpc.stop();
      await callPool.stop();
    },
  };
}
