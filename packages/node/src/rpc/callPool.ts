/**
 * The RPC's EVM, off the consensus thread (ADR 0130): `eth_call`, `eth_estimateGas`'s probes
 * and `eth_createAccessList` run in worker threads. The main thread, which owns the LevelDB
 * handle, answers their trie-node and block-hash reads (cheap gets, no EVM). Bounded: at most
 * `workers` calls run, `maxQueued` wait, the rest are refused at once; a call running past
 * `evmTimeoutMs` has its worker terminated, which stops even a tight loop, and a fresh worker
 * takes its place.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { Logger, Metrics } from "@dseq/common";
import type {
  CallJob,
  CallResult,
  CallSource,
  SimulateJob,
  TraceCallJob,
  TraceJob,
  TraceJobResult,
} from "@dseq/l2-exec";
import { CallPoolError, CallPoolErrorCode } from "./callPoolErrors.ts";
import type { FromWorker, ToWorker, WorkerInit } from "./callProtocol.ts";

export type CallPoolOptions = {
  /** EVM worker threads (calls running at once). */
  workers: number;
  /** Calls waiting for a worker; one more is refused with `NODE_RPC_EVM_BUSY`. */
  maxQueued: number;
  /** Wall-clock limit of one call (geth's `--rpc.evmtimeout`, 5 s). */
  evmTimeoutMs: number;
  /** Trie nodes and code each worker keeps (entries). */
  nodeCacheSize: number;
  /** Nice value of the worker threads (Linux: per thread). */
  nice: number;
};

export const defaultCallPoolOptions: CallPoolOptions = {
  // Leave a core to consensus, gossip and the HTTP server; at least one worker.
  workers: Math.max(1, Math.min(4, availableParallelism() - 1)),
  maxQueued: 64,
  evmTimeoutMs: 5_000,
  nodeCacheSize: 100_000,
  nice: 19,
};

export type CallPoolModules = { source: CallSource; logger: Logger; metrics?: Metrics };

type Work =
  | { type: "call"; job: CallJob }
  | { type: "trace"; job: TraceJob }
  | { type: "traceCall"; job: TraceCallJob }
  | { type: "simulate"; job: SimulateJob };

type Job = {
  work: Work;
  /** Wall-clock limit of this job (a trace's own `timeout`, at most `evmTimeoutMs`). */
  timeoutMs: number;
  resolve: (r: unknown) => void;
  reject: (e: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
};

type Slot = {
  worker: Worker;
  ready: boolean;
  running: { id: number; job: Job; timer: NodeJS.Timeout } | undefined;
};

const WORKER_URL = new URL("./callWorker.ts", import.meta.url);

export class CallPool {
  readonly opts: CallPoolOptions;
  private readonly source: CallSource;
  private readonly log: Logger;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private stopped = false;
  private failedStarts = 0;
  private readonly outcomes: ReturnType<Metrics["counter"]> | undefined;
  private readonly queued: ReturnType<Metrics["gauge"]> | undefined;

  constructor(opts: Partial<CallPoolOptions>, modules: CallPoolModules) {
    this.opts = { ...defaultCallPoolOptions, ...opts };
    if (!(this.opts.workers >= 1 && this.opts.maxQueued >= 0 && this.opts.evmTimeoutMs > 0)) {
      throw new CallPoolError(
        CallPoolErrorCode.Unavailable,
        "call pool needs workers >= 1, maxQueued >= 0, evmTimeoutMs > 0",
        {
          details: { ...this.opts },
        },
      );
    }
    this.source = modules.source;
    this.log = modules.logger;
    this.outcomes = modules.metrics?.counter<"outcome">({
      name: "dseq_rpc_evm_calls_total",
      help: "RPC EVM calls by outcome (ok, error, busy, timeout, aborted)",
      labelNames: ["outcome"],
    }) as ReturnType<Metrics["counter"]> | undefined;
    this.queued = modules.metrics?.gauge({
      name: "dseq_rpc_evm_queued_calls",
      help: "RPC EVM calls waiting for a worker",
    }) as ReturnType<Metrics["gauge"]> | undefined;
  }

  /** Starts the workers; resolves when each is ready. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.opts.workers }, () => this.spawn()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const j of this.queue.splice(0))
      this.fail(j, new CallPoolError(CallPoolErrorCode.Unavailable, "node is stopping"));
    await Promise.all(
      this.slots.splice(0).map(async (s) => {
        if (s.running !== undefined) {
          clearTimeout(s.running.timer);
          this.fail(s.running.job, new CallPoolError(CallPoolErrorCode.Unavailable, "node is stopping"));
        }
        await s.worker.terminate();
      }),
    );
  }

  /** Calls running and waiting. */
  load(): { running: number; queued: number } {
    return { running: this.slots.filter((s) => s.running !== undefined).length, queued: this.queue.length };
  }

  /** Runs `job` on a worker. Rejects with a `CallPoolError` when it is refused, aborted or too slow. */
  run(job: CallJob, signal?: AbortSignal): Promise<CallResult> {
    return this.submit({ type: "call", job }, this.opts.evmTimeoutMs, signal) as Promise<CallResult>;
  }

  /**
   * Re-runs a committed block on a worker and traces one or all of its transactions (ADR 0132).
   * The job's deadline is its `timeoutMs`, capped at `evmTimeoutMs`; past it the worker is
   * terminated like a slow call's.
   */
  trace(job: TraceJob, signal?: AbortSignal): Promise<TraceJobResult> {
    const timeoutMs = Math.min(job.timeoutMs, this.opts.evmTimeoutMs);
    return this.submit(
      { type: "trace", job: { ...job, timeoutMs } },
      timeoutMs,
      signal,
    ) as Promise<TraceJobResult>;
  }

  /** debug_traceCall on a worker, under the same bounds as `trace`. */
  traceCall(job: TraceCallJob, signal?: AbortSignal): Promise<unknown> {
    const timeoutMs = Math.min(job.timeoutMs, this.opts.evmTimeoutMs);
    return this.submit({ type: "traceCall", job: { ...job, timeoutMs } }, timeoutMs, signal);
  }

  /**
   * eth_simulateV1 as one job (ADR 0133): the whole request under the call deadline; the result
   * is the simulated blocks as `SimulatedBlockData`. A refusal rejects with `rpcCode` set.
   */
  simulate(job: SimulateJob, signal?: AbortSignal): Promise<unknown> {
    const timeoutMs = Math.min(job.timeoutMs, this.opts.evmTimeoutMs);
    return this.submit({ type: "simulate", job: { ...job, timeoutMs } }, timeoutMs, signal);
  }

  private submit(work: Work, timeoutMs: number, signal: AbortSignal | undefined): Promise<unknown> {
    if (this.stopped)
      return Promise.reject(new CallPoolError(CallPoolErrorCode.Unavailable, "node is stopping"));
    if (signal?.aborted) return Promise.reject(this.aborted());
    const idle = this.slots.find((s) => s.ready && s.running === undefined);
    if (idle === undefined && this.queue.length >= this.opts.maxQueued) {
      this.outcomes?.inc({ outcome: "busy" });
      return Promise.reject(
        new CallPoolError(CallPoolErrorCode.Busy, "too many calls in flight, try again later", {
          details: { running: this.load().running, queued: this.queue.length },
        }),
      );
    }
    return new Promise<unknown>((resolve, reject) => {
      const j: Job = { work, timeoutMs, resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        j.onAbort = () => this.abort(j);
        signal.addEventListener("abort", j.onAbort, { once: true });
      }
      if (idle !== undefined) this.dispatch(idle, j);
      else {
        this.queue.push(j);
        this.queued?.set(this.queue.length);
      }
    });
  }

  private aborted(): CallPoolError {
    return new CallPoolError(CallPoolErrorCode.Aborted, "call aborted");
  }

  private spawn(): Promise<void> {
    const init: WorkerInit = {
      genesisJson: this.source.genesisJson,
      nodeCacheSize: this.opts.nodeCacheSize,
      nice: this.opts.nice,
    };
    const worker = new Worker(WORKER_URL, { workerData: init, name: "dseq-rpc-evm" });
    const slot: Slot = { worker, ready: false, running: undefined };
    this.slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      worker.on("message", (m: FromWorker) => {
        if (m.type === "ready") {
          slot.ready = true;
          this.failedStarts = 0;
          resolve();
          this.next(slot);
        } else if (m.type === "read") void this.serveRead(slot, m);
        else this.finish(slot, m);
      });
      worker.on("error", (err) => {
        this.log.error("rpc evm worker failed", { err: err.message });
        if (!slot.ready)
          reject(
            new CallPoolError(CallPoolErrorCode.Unavailable, "rpc evm worker did not start", { cause: err }),
          );
      });
      worker.on("exit", (code) => this.onExit(slot, code));
    });
  }

  private onExit(slot: Slot, code: number): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return; // terminated on purpose (timeout, abort, stop): already replaced
    this.slots.splice(i, 1);
    const r = slot.running;
    if (r !== undefined) {
      clearTimeout(r.timer);
      this.fail(
        r.job,
        new CallPoolError(CallPoolErrorCode.WorkerFailed, "rpc evm worker exited", { details: { code } }),
      );
    }
    if (this.stopped) return;
    if (!slot.ready && ++this.failedStarts >= 3) {
      this.log.error("rpc evm workers cannot start; calls are refused", { code });
      for (const j of this.queue.splice(0))
        this.fail(j, new CallPoolError(CallPoolErrorCode.Unavailable, "rpc evm workers cannot start"));
      return;
    }
    this.spawn().catch(() => {});
  }

  /** Ends a running call by terminating its worker (the only way to stop a synchronous loop). */
  private kill(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate();
    if (!this.stopped) this.spawn().catch(() => {});
  }

  private dispatch(slot: Slot, j: Job): void {
    const id = this.nextId++;
    const timer = setTimeout(() => {
      if (slot.running?.id !== id) return;
      slot.running = undefined;
      this.kill(slot);
      this.outcomes?.inc({ outcome: "timeout" });
      const secs = j.timeoutMs / 1000;
      this.fail(j, new CallPoolError(CallPoolErrorCode.Timeout, `execution aborted (timeout = ${secs}s)`));
    }, j.timeoutMs);
    slot.running = { id, job: j, timer };
    const m = { type: j.work.type, id, job: j.work.job } as ToWorker;
    slot.worker.postMessage(m);
  }

  private next(slot: Slot): void {
    const j = this.queue.shift();
    this.queued?.set(this.queue.length);
    if (j !== undefined) this.dispatch(slot, j);
  }

  private finish(slot: Slot, m: Extract<FromWorker, { type: "result" | "error" }>): void {
    const r = slot.running;
    if (r === undefined || r.id !== m.id) return;
    clearTimeout(r.timer);
    slot.running = undefined;
    this.done(r.job);
    if (m.type === "result") {
      this.outcomes?.inc({ outcome: "ok" });
      r.job.resolve(m.result);
    } else {
      this.outcomes?.inc({ outcome: "error" });
      const err = new Error(m.message) as Error & { rpcCode?: number };
      if (m.rpcCode !== undefined) err.rpcCode = m.rpcCode;
      r.job.reject(err);
    }
    this.next(slot);
  }

  private abort(j: Job): void {
    const q = this.queue.indexOf(j);
    if (q >= 0) {
      this.queue.splice(q, 1);
      this.queued?.set(this.queue.length);
    } else {
      const slot = this.slots.find((s) => s.running?.job === j);
      if (slot === undefined) return;
      clearTimeout((slot.running as NonNullable<Slot["running"]>).timer);
      slot.running = undefined;
      this.kill(slot);
    }
    this.outcomes?.inc({ outcome: "aborted" });
    this.fail(j, this.aborted());
  }

  private done(j: Job): void {
    if (j.onAbort !== undefined) j.signal?.removeEventListener("abort", j.onAbort);
  }

  private fail(j: Job, err: Error): void {
    this.done(j);
    j.reject(err);
  }

  private async serveRead(slot: Slot, m: Extract<FromWorker, { type: "read" }>): Promise<void> {
    let value: Uint8Array | undefined;
    try {
      value =
        m.kind === "node" ? await this.source.readNode(m.key) : await this.source.canonicalHash(m.number);
    } catch (err) {
      this.log.warn("rpc evm read failed", { err: err instanceof Error ? err.message : String(err) });
    }
    const reply: ToWorker = { type: "read", id: m.id, value };
    if (this.slots.includes(slot)) slot.worker.postMessage(reply);
  }
}
