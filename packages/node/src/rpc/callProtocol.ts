/** Messages between the main thread (`callPool.ts`) and an EVM worker (`callWorker.ts`). */
import type { CallJob, TraceCallJob, TraceJob } from "@dseq/l2-exec";

export type WorkerInit = { genesisJson: string; nodeCacheSize: number; nice: number };

export type ToWorker =
  | { type: "call"; id: number; job: CallJob }
  | { type: "trace"; id: number; job: TraceJob }
  | { type: "traceCall"; id: number; job: TraceCallJob }
  | { type: "read"; id: number; value: Uint8Array | undefined };

export type FromWorker =
  | { type: "ready" }
  | { type: "result"; id: number; result: unknown }
  | { type: "error"; id: number; message: string }
  | ({ type: "read"; id: number } & ({ kind: "node"; key: string } | { kind: "hash"; number: bigint }));
