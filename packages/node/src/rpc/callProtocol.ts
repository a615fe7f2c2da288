/** Messages between the main thread (`callPool.ts`) and an EVM worker (`callWorker.ts`). */
import type { CallJob, SimulateJob, TraceCallJob, TraceJob } from "@dseq/l2-exec";

export type WorkerInit = { genesisJson: string; nodeCacheSize: number; nice: number };

export type ToWorker =
  | { type: "call"; id: number; job: CallJob }
  | { type: "trace"; id: number; job: TraceJob }
  | { type: "traceCall"; id: number; job: TraceCallJob }
  | { type: "simulate"; id: number; job: SimulateJob }
  | { type: "read"; id: number; value: Uint8Array | undefined };

export type FromWorker =
  | { type: "ready" }
  | { type: "result"; id: number; result: unknown }
  /** `rpcCode`: the JSON-RPC code an eth_simulateV1 refusal is answered with. */
  | { type: "error"; id: number; message: string; rpcCode?: number }
  | ({ type: "read"; id: number } & ({ kind: "node"; key: string } | { kind: "hash"; number: bigint }));
