/**
 * The JSON-RPC 2.0 envelope: single calls, batches, notifications, limits and timeouts.
 * Transport-free: the HTTP and WebSocket servers hand it text and write back what it returns.
 */
import type { Logger, Metrics } from "@dseq/common";
import { methodNotFound, RpcError, RpcErrorCode } from "./errors.ts";
import { ParamError } from "./params.ts";
import { type CallContext, MethodRegistry, type Session } from "./registry.ts";

export type DispatcherOptions = {
  /** Most calls in one batch (geth's BatchRequestLimit). */
  maxBatchSize: number;
  /** Per-call deadline; the caller gets -32002 when it passes. */
  requestTimeoutMs: number;
  /** Largest serialized reply to one call, and to a whole batch. */
  maxResponseBytes: number;
};

export const defaultDispatcherOptions: DispatcherOptions = {
  maxBatchSize: 100,
  requestTimeoutMs: 30_000,
  maxResponseBytes: 25 * 1024 * 1024,
};

type Id = string | number | null;

const JSON_HEADER = '{"jsonrpc":"2.0","id":';

function errorReply(id: Id, err: RpcError): string {
  return `${JSON_HEADER}${JSON.stringify(id)},"error":${JSON.stringify(err.toJSON())}}`;
}

function isValidId(id: unknown): id is Id {
  return id === null || typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
}

export class Dispatcher {
  private readonly registry: MethodRegistry;
  private readonly opts: DispatcherOptions;
  private readonly log: Logger;
  private readonly calls: ReturnType<Metrics["counter"]> | undefined;
  private readonly seconds: ReturnType<Metrics["histogram"]> | undefined;

  constructor(
    opts: DispatcherOptions,
    modules: { registry: MethodRegistry; logger: Logger; metrics?: Metrics },
  ) {
    this.registry = modules.registry;
    this.opts = opts;
    this.log = modules.logger;
    this.calls = modules.metrics?.counter<"method" | "outcome">({
      name: "dseq_rpc_calls_total",
      help: "JSON-RPC calls by method and outcome (ok, error)",
      labelNames: ["method", "outcome"],
    }) as ReturnType<Metrics["counter"]> | undefined;
    this.seconds = modules.metrics?.histogram<"method">({
      name: "dseq_rpc_call_duration_seconds",
      help: "JSON-RPC call latency",
      labelNames: ["method"],
      buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    }) as ReturnType<Metrics["histogram"]> | undefined;
  }

  /** Handles one transport message. Returns the reply text, or undefined when none is due. */
  async handleText(text: string, session?: Session, signal?: AbortSignal): Promise<string | undefined> {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return errorReply(null, new RpcError(RpcErrorCode.ParseError, "parse error"));
    }
    return this.handleMessage(msg, session, signal);
  }

  async handleMessage(msg: unknown, session?: Session, signal?: AbortSignal): Promise<string | undefined> {
    if (!Array.isArray(msg)) return this.handleCall(msg, session, signal);
    if (msg.length === 0) return errorReply(null, new RpcError(RpcErrorCode.InvalidRequest, "empty batch"));
    if (msg.length > this.opts.maxBatchSize) {
      // geth: one error for the whole batch, carrying the first call's id.
      const first = msg.find(
        (m) => m !== null && typeof m === "object" && isValidId((m as { id?: unknown }).id),
      );
      const id = first === undefined ? null : ((first as { id: Id }).id ?? null);
      return `[${errorReply(id, new RpcError(RpcErrorCode.InvalidRequest, "batch too large"))}]`;
    }
    const parts: string[] = [];
    let size = 2;
    for (const item of msg) {
      if (signal?.aborted) break;
      let reply = await this.handleCall(item, session, signal);
      if (reply === undefined) continue;
      if (size + reply.length > this.opts.maxResponseBytes) {
        const id = (item as { id?: Id }).id ?? null;
        reply = errorReply(id, new RpcError(RpcErrorCode.ResponseTooLarge, "response too large"));
      }
      size += reply.length + 1;
      parts.push(reply);
    }
    return parts.length === 0 ? undefined : `[${parts.join(",")}]`;
  }

  private async handleCall(
    msg: unknown,
    session?: Session,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    if (msg === null || typeof msg !== "object" || Array.isArray(msg)) {
      return errorReply(null, new RpcError(RpcErrorCode.InvalidRequest, "invalid request"));
    }
    const m = msg as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
    const isNotification = !("id" in m);
    if (!isNotification && !isValidId(m.id)) {
      return errorReply(null, new RpcError(RpcErrorCode.InvalidRequest, "invalid request"));
    }
    const id: Id = isNotification ? null : (m.id as Id);
    if (m.jsonrpc !== "2.0" || typeof m.method !== "string" || m.method.length === 0) {
      return isNotification
        ? undefined
        : errorReply(id, new RpcError(RpcErrorCode.InvalidRequest, "invalid request"));
    }
    const name = m.method;
    const result = await this.invoke(name, m.params, session, signal);
    if (isNotification) return undefined;
    if (result instanceof RpcError) return errorReply(id, result);
    if (result.length > this.opts.maxResponseBytes) {
      return errorReply(id, new RpcError(RpcErrorCode.ResponseTooLarge, "response too large"));
    }
    return `${JSON_HEADER}${JSON.stringify(id)},"result":${result}}`;
  }

  /** Runs one method; returns the serialized result or the error to send. */
  private async invoke(
    name: string,
    params: unknown,
    session?: Session,
    signal?: AbortSignal,
  ): Promise<string | RpcError> {
    const def = this.registry.get(name);
    const label = def === undefined ? "unknown" : name;
    const stop = this.seconds?.startTimer({ method: label });
    try {
      if (def === undefined) throw methodNotFound(name);
      if (params !== undefined && params !== null && !Array.isArray(params)) {
        throw new RpcError(RpcErrorCode.InvalidParams, "non-array args");
      }
      const args = MethodRegistry.parseArgs(def, (params as unknown[] | undefined) ?? []);
      const value = await this.runWithDeadline(name, args, def, session, signal);
      this.calls?.inc({ method: label, outcome: "ok" });
      return value === undefined ? "null" : JSON.stringify(value);
    } catch (err) {
      this.calls?.inc({ method: label, outcome: "error" });
      return this.toRpcError(name, err);
    } finally {
      stop?.();
    }
  }

  private runWithDeadline(
    name: string,
    args: unknown[],
    def: NonNullable<ReturnType<MethodRegistry["get"]>>,
    session: Session | undefined,
    outer: AbortSignal | undefined,
  ): Promise<unknown> {
    const ctrl = new AbortController();
    const signal = outer === undefined ? ctrl.signal : AbortSignal.any([ctrl.signal, outer]);
    const ctx: CallContext = session === undefined ? { signal } : { signal, session };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ctrl.abort(new RpcError(RpcErrorCode.Timeout, "request timed out"));
        this.log.debug("rpc call timed out", { method: name, ms: this.opts.requestTimeoutMs });
        reject(new RpcError(RpcErrorCode.Timeout, "request timed out"));
      }, this.opts.requestTimeoutMs);
      timer.unref();
      Promise.resolve()
        .then(() => def.run(args as never, ctx))
        .then(
          (v) => {
            clearTimeout(timer);
            resolve(v);
          },
          (e: unknown) => {
            clearTimeout(timer);
            reject(e);
          },
        );
    });
  }

  private toRpcError(method: string, err: unknown): RpcError {
    if (err instanceof RpcError) return err;
    if (err instanceof ParamError) return new RpcError(RpcErrorCode.InvalidParams, err.message);
    if (err instanceof Error) {
      // geth answers backend failures with -32000 and the error text; a bug is logged too.
      if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError) {
        this.log.warn("rpc method failed", { method, err: err.message, stack: err.stack });
      }
      return new RpcError(RpcErrorCode.Server, err.message);
    }
    return new RpcError(RpcErrorCode.Internal, "internal error");
  }
}
