/**
 * Entry of an RPC EVM worker thread (ADR 0130): runs calls with `createCallEngine` and reads
 * state from the main thread, which owns the LevelDB handle, through `callPool.ts`'s protocol.
 */
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import type { SimulateJob, TraceEngine } from "@dseq/l2-exec";
// The engine alone, not the package index: a smaller module graph starts a worker faster.
import { createCallEngine } from "@dseq/l2-exec/callEngine";
import type { FromWorker, ToWorker, WorkerInit } from "./callProtocol.ts";

const port = parentPort;
if (port === null) throw new Error("callWorker.ts runs only as a worker thread");
const init = workerData as WorkerInit;

// Linux applies a nice value to the calling thread only: consensus on the main thread keeps
// the CPU whenever both want it (2 cores run 4 validators in the tests).
try {
  setPriority(init.nice);
} catch {
  // Not permitted or not supported: the pool's bounds still hold.
}

const send = (m: FromWorker): void => port.postMessage(m);
const waiting = new Map<number, (v: Uint8Array | undefined) => void>();
let nextId = 1;
const ask = (
  m: { kind: "node"; key: string } | { kind: "hash"; number: bigint },
): Promise<Uint8Array | undefined> =>
  new Promise((resolve) => {
    const id = nextId++;
    waiting.set(id, resolve);
    send({ type: "read", id, ...m });
  });

const engine = createCallEngine(
  { genesisJson: init.genesisJson, nodeCacheSize: init.nodeCacheSize },
  { readNode: (key) => ask({ kind: "node", key }), canonicalHash: (number) => ask({ kind: "hash", number }) },
);

const source = {
  readNode: (key: string) => ask({ kind: "node", key }),
  canonicalHash: (number: bigint) => ask({ kind: "hash", number }),
};
// Traces (ADR 0132) load the tracers on first use: a worker that only serves calls starts fast.
let tracing: Promise<TraceEngine> | undefined;
const traceEngine = (): Promise<TraceEngine> => {
  tracing ??= import("@dseq/l2-exec").then((m) =>
    m.createTraceEngine({ genesisJson: init.genesisJson, nodeCacheSize: init.nodeCacheSize }, source),
  );
  return tracing;
};

// eth_simulateV1 (ADR 0133): loaded on first use, like the tracers; blocks leave as BlockData.
let simulating: Promise<(job: SimulateJob) => Promise<unknown>> | undefined;
const simulateEngine = (): Promise<(job: SimulateJob) => Promise<unknown>> => {
  simulating ??= Promise.all([import("@dseq/l2-exec"), import("./simulateData.ts")]).then(([m, d]) => {
    const e = m.createSimulateEngine(
      { genesisJson: init.genesisJson, nodeCacheSize: init.nodeCacheSize },
      source,
    );
    return async (job) => d.simulatedToData(await e.simulate(job));
  });
  return simulating;
};

port.on("message", (m: ToWorker) => {
  if (m.type === "read") {
    const resolve = waiting.get(m.id);
    waiting.delete(m.id);
    resolve?.(m.value);
    return;
  }
  const work: Promise<unknown> =
    m.type === "trace"
      ? traceEngine().then((t) => t.trace(m.job))
      : m.type === "traceCall"
        ? traceEngine().then((t) => t.traceCall(m.job))
        : m.type === "simulate"
          ? simulateEngine().then((run) => run(m.job))
          : engine.call(m.job);
  work.then(
    (result) => send({ type: "result", id: m.id, result }),
    (err: unknown) => {
      const rpcCode = (err as { rpcCode?: unknown } | null)?.rpcCode;
      send({
        type: "error",
        id: m.id,
        message: err instanceof Error ? err.message : String(err),
        ...(typeof rpcCode === "number" ? { rpcCode } : {}),
      });
    },
  );
});
send({ type: "ready" });
