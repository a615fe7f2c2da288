import { EventBus, type Logger, type Metrics } from "@dseq/common";
import { type Chain, createChain } from "@dseq/l2-exec";
import { createRpcServer, method, type RpcEventMap, type RpcServer, type TxPoolView } from "@dseq/rpc";
import type { ChainSpec } from "../chainSpec.ts";
import type { NodeConfig } from "../config.ts";
import { chainReader } from "../rpcBackend.ts";
import { chainConfigFromSpec, initChain } from "../start/initChain.ts";
import { listenError } from "../start/started.ts";
import { Deriver, type DeriveStatus, defaultDeriverRetryMs } from "./deriver.ts";
import { DeriveError, DeriveErrorCode } from "./errors.ts";
import { recoverChainDirs, rewindChainStore } from "./rewindChainStore.ts";

export type RunningVerifier = {
  deriver: Deriver;
  /** Always the current chain store (a rewind replaces it, ADR 0184). */
  chain: Chain;
  rpc: RpcServer;
  rpcHttp: string | undefined;
  stop(): Promise<void>;
};

/** A verifier has no pool: nothing pending, ever. */
const emptyPool: TxPoolView = {
  status: () => ({ pending: 0, queued: 0 }),
  content: () => ({ pending: new Map(), queued: new Map() }),
  contentFrom: () => ({ pending: [], queued: [] }),
  pendingNonce: () => undefined,
  getTransaction: () => undefined,
};

const json = (s: DeriveStatus) =>
  JSON.parse(JSON.stringify(s, (_k, x) => (typeof x === "bigint" ? `0x${x.toString(16)}` : x)));

/** A Chain that forwards to whatever store is current: RPC keeps one object across rewinds. */
function forwardingChain(current: () => Chain): Chain {
  return new Proxy({} as Chain, {
    get(_t, key) {
      const c = current();
      const v = Reflect.get(c, key, c) as unknown;
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(c) : v;
    },
  });
}

/**
 * `dseq derive`: the chain store in `<dataDir>/chain`, the deriver following L1 (`l1` section of
 * the node config: the validators' endpoints, contracts and startBlock), and JSON-RPC over the
 * derived chain like a follower's, read-only, with `dseq_syncStatus` saying where derivation
 * stands (ADR 0183). Stops in reverse order.
 */
export async function startVerifier(
  config: NodeConfig,
  spec: ChainSpec,
  m: { logger: Logger; metrics: Metrics; beaconUrl?: string; crashAt?: string | undefined },
): Promise<RunningVerifier> {
  const l1 = config.l1;
  if (!l1) {
    throw new DeriveError(DeriveErrorCode.BadStore, "a verifier needs the l1 section of the config", {
      batchIndex: 0n,
      field: "l1",
    });
  }
  recoverChainDirs(config.dataDir, m.logger);
  const started = await initChain(config.dataDir, spec, spec.maxBlockBytes, m);
  let current = started.module;
  const chain = forwardingChain(() => current);
  const stops: (() => Promise<void> | void)[] = [() => current.close()];
  const stopAll = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    const events = new EventBus<RpcEventMap>({ name: "rpc-events", logger: m.logger });
    const onCommitted = (c: Chain) =>
      c.events.on("chain.committed", (b) => events.emit("chain.head", { number: b.number, hash: b.hash }));
    let off = onCommitted(current);
    stops.push(() => off());
    const rewindChain = async (to: { number: bigint; hash: `0x${string}` }): Promise<Chain> => {
      const next = await rewindChainStore(
        {
          dataDir: config.dataDir,
          logger: m.logger,
          crashAt: m.crashAt,
          open: (dir, o) =>
            createChain({
              dataDir: dir,
              chainConfig: chainConfigFromSpec(spec),
              maxBlockBytes: spec.maxBlockBytes,
              logger: m.logger,
              // the scratch copy re-executes old blocks: no head metric, one fsync at the end
              ...(o.scratch ? { syncWrites: false } : { metrics: m.metrics }),
            }),
        },
        current,
        to,
      );
      if (next !== current) {
        off();
        current = next;
        off = onCommitted(current);
        events.emit("chain.head", { number: to.number, hash: to.hash });
      }
      return next;
    };
    const deriver = new Deriver(
      {
        dataDir: config.dataDir,
        l2ChainId: BigInt(spec.chainId),
        l1: { ...l1, endpoints: [...l1.endpoints] },
        ...(m.beaconUrl ? { beaconUrl: m.beaconUrl } : {}),
        retryMs: defaultDeriverRetryMs,
        crashAt: m.crashAt,
      },
      { chain: current, logger: m.logger, metrics: m.metrics, rewindChain },
    );
    const rpc = createRpcServer(
      {
        http: config.rpc.http.enabled ? { host: config.rpc.http.host, port: config.rpc.http.port } : false,
        ws: config.rpc.ws.enabled ? { host: config.rpc.ws.host, port: config.rpc.ws.port } : false,
        corsOrigins: config.rpc.cors,
        maxBodyBytes: config.rpc.maxBodyBytes,
        maxBatchSize: config.rpc.maxBatch,
        requestTimeoutMs: config.rpc.timeoutMs,
        maxLogsBlockRange: config.rpc.getLogsMaxRange,
        clientVersion: "dseq/v0.1.0 (verifier)",
      },
      {
        backend: {
          chain: chainReader(chain, { blockTimeMs: spec.blockTimeMs }),
          txpool: emptyPool,
          events,
          submitRawTransaction: async () => {
            throw new Error("this node is a verifier: it takes no transactions");
          },
          syncing: () => false,
          peerCount: () => 0,
        },
        logger: m.logger,
        metrics: m.metrics,
      },
    );
    rpc.registry.register(
      "dseq_syncStatus",
      method([], () => json(deriver.status())),
    );
    try {
      await rpc.start();
    } catch (err) {
      throw listenError("RPC", config.rpc.http.host, config.rpc.http.port, err);
    }
    stops.push(() => rpc.stop());
    await deriver.start();
    stops.push(() => deriver.stop());
    return {
      deriver,
      chain,
      rpc,
      rpcHttp: config.rpc.http.enabled ? `http://${config.rpc.http.host}:${config.rpc.http.port}` : undefined,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
