/**
 * debug_traceTransaction / debug_traceBlockByNumber / debug_traceBlockByHash (geth's tracers)
 * and parity-style trace_transaction / trace_block (geth's flatCallTracer, what Blockscout
 * reads). The backend re-runs the committed block off the consensus thread (ADR 0132).
 */
import type { Hex } from "@dseq/common";
import { blockOverrides } from "../blockOverrides.ts";
import { blockOf, type Services, stateBlock } from "../context.ts";
import { RpcError, RpcErrorCode } from "../errors.ts";
import type { Json } from "../format.ts";
import {
  blockNumberOrTag,
  blockRef,
  callRequest,
  hash,
  LATEST,
  optional,
  ParamError,
  type Parser,
  required,
  stateOverrides,
} from "../params.ts";
import { type MethodDef, method } from "../registry.ts";
import type {
  BlockData,
  BlockOverridesData,
  ChainReader,
  StateOverrides,
  TraceRequest,
  TxTrace,
} from "../types.ts";

/** geth's default tracer timeout. */
export const DEFAULT_TRACE_TIMEOUT_MS = 5_000;

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/** Go's time.ParseDuration ("5s", "1m30s", "300ms"), in milliseconds. */
export function parseDuration(v: string): number {
  if (v.length === 0 || v.length > 64) throw new ParamError(`time: invalid duration ${JSON.stringify(v)}`);
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let ms = 0;
  let at = 0;
  while (at < v.length) {
    re.lastIndex = at;
    const m = re.exec(v);
    if (m === null) throw new ParamError(`time: invalid duration ${JSON.stringify(v)}`);
    ms += Number(m[1]) * (UNITS[m[2] as string] as number);
    at = re.lastIndex;
  }
  return ms;
}

const BOOLS = [
  "disableStack",
  "disableStorage",
  "enableMemory",
  "disableMemory",
  "enableReturnData",
] as const;

/** geth's TraceConfig (unknown fields are ignored, like Go's json). */
export const traceConfig: Parser<TraceRequest> = (v) => {
  if (v === null || v === undefined) return { timeoutMs: DEFAULT_TRACE_TIMEOUT_MS };
  if (typeof v !== "object" || Array.isArray(v))
    throw new ParamError("json: cannot unmarshal non-object into Go value of type tracers.TraceConfig");
  const o = v as Record<string, unknown>;
  const out: TraceRequest = { timeoutMs: DEFAULT_TRACE_TIMEOUT_MS };
  for (const k of BOOLS) {
    const b = o[k];
    if (b === undefined || b === null) continue;
    if (typeof b !== "boolean")
      throw new ParamError(
        `json: cannot unmarshal ${typeof b} into Go struct field TraceConfig.${k} of type bool`,
      );
    out[k] = b;
  }
  if (o.tracer !== undefined && o.tracer !== null) {
    if (typeof o.tracer !== "string" || o.tracer.length > 64)
      throw new ParamError("json: cannot unmarshal into Go struct field TraceConfig.tracer of type string");
    out.tracer = o.tracer;
  }
  if (o.tracerConfig !== undefined && o.tracerConfig !== null) {
    if (typeof o.tracerConfig !== "object" || Array.isArray(o.tracerConfig))
      throw new ParamError("json: cannot unmarshal into Go struct field TraceConfig.tracerConfig");
    out.tracerConfig = o.tracerConfig as Record<string, unknown>;
  }
  if (o.limit !== undefined && o.limit !== null) {
    if (typeof o.limit !== "number" || !Number.isSafeInteger(o.limit) || o.limit < 0)
      throw new ParamError("json: cannot unmarshal into Go struct field TraceConfig.limit of type int");
    out.limit = o.limit;
  }
  if (o.timeout !== undefined && o.timeout !== null) {
    if (typeof o.timeout !== "string")
      throw new ParamError("json: cannot unmarshal into Go struct field TraceConfig.timeout of type string");
    out.timeoutMs = parseDuration(o.timeout);
  }
  return out;
};

type TraceCallRequest = TraceRequest & { overrides?: StateOverrides; blockOverrides?: BlockOverridesData };

/** geth's TraceCallConfig: a TraceConfig plus stateOverrides and blockOverrides. */
const traceCallConfig: Parser<TraceCallRequest> = (v) => {
  const out: TraceCallRequest = traceConfig(v);
  if (v === null || v === undefined) return out;
  const o = v as Record<string, unknown>;
  if (o.stateOverrides !== undefined && o.stateOverrides !== null)
    out.overrides = stateOverrides(o.stateOverrides);
  if (o.blockOverrides !== undefined && o.blockOverrides !== null)
    out.blockOverrides = blockOverrides(o.blockOverrides);
  return out;
};

function tracing(chain: ChainReader): NonNullable<ChainReader["traceBlock"]> {
  if (chain.traceBlock === undefined)
    throw new RpcError(RpcErrorCode.MethodNotFound, "tracing is not served by this node");
  return chain.traceBlock.bind(chain);
}

async function traceWhole(
  chain: ChainReader,
  block: BlockData,
  req: TraceRequest,
  signal: AbortSignal,
): Promise<Json> {
  if (block.header.number === 0n) throw new RpcError(RpcErrorCode.Server, "genesis is not traceable");
  return (await tracing(chain)(block.header.hash, req, undefined, signal)) as Json;
}

async function traceOne(
  chain: ChainReader,
  txHash: Hex,
  req: TraceRequest,
  signal: AbortSignal,
): Promise<Json> {
  const trace = tracing(chain);
  const loc = await chain.getTransactionLocation(txHash);
  if (loc === undefined) throw new RpcError(RpcErrorCode.Server, "transaction not found");
  const block = await chain.getBlockByHash(loc.blockHash);
  if (block === undefined) throw new RpcError(RpcErrorCode.Server, "transaction not found");
  if (block.header.number === 0n) throw new RpcError(RpcErrorCode.Server, "genesis is not traceable");
  const out = await trace(loc.blockHash, req, loc.index, signal);
  const mine = out.find((t: TxTrace) => t.txHash.toLowerCase() === txHash.toLowerCase());
  if (mine === undefined) throw new RpcError(RpcErrorCode.Server, "transaction not found");
  return mine.result as Json;
}

const FLAT: TraceRequest = { tracer: "flatCallTracer", timeoutMs: DEFAULT_TRACE_TIMEOUT_MS };

/** The trace methods the backend serves: none of them when it has no tracing (not "exists, fails"). */
export function traceMethods(svc: Services): Record<string, MethodDef> {
  const { chain } = svc;
  const all = allTraceMethods(svc);
  const out: Record<string, MethodDef> = {};
  for (const [name, def] of Object.entries(all)) {
    const served =
      name === "debug_traceCall" ? chain.traceCall !== undefined : chain.traceBlock !== undefined;
    if (served) out[name] = def;
  }
  return out;
}

function allTraceMethods(svc: Services): Record<string, MethodDef> {
  const { chain } = svc;
  return {
    debug_traceTransaction: method([required(hash), optional(traceConfig)], async ([h, req], ctx) =>
      traceOne(chain, h, req ?? { timeoutMs: DEFAULT_TRACE_TIMEOUT_MS }, ctx.signal),
    ),
    debug_traceBlockByNumber: method(
      [required(blockNumberOrTag), optional(traceConfig)],
      async ([ref, req], ctx) => {
        const block = await blockOf(chain, ref);
        if (block === undefined) {
          const n = ref.kind === "number" ? ref.number : undefined;
          throw new RpcError(
            RpcErrorCode.Server,
            n === undefined ? "block not found" : `block #${n} not found`,
          );
        }
        return traceWhole(chain, block, req ?? { timeoutMs: DEFAULT_TRACE_TIMEOUT_MS }, ctx.signal);
      },
    ),
    debug_traceBlockByHash: method([required(hash), optional(traceConfig)], async ([h, req], ctx) => {
      const block = await chain.getBlockByHash(h);
      if (block === undefined) throw new RpcError(RpcErrorCode.Server, `block ${h} not found`);
      return traceWhole(chain, block, req ?? { timeoutMs: DEFAULT_TRACE_TIMEOUT_MS }, ctx.signal);
    }),
    debug_traceCall: method(
      [required(callRequest), optional(blockRef, LATEST), optional(traceCallConfig)],
      async ([req, ref, cfg], ctx) => {
        if (chain.traceCall === undefined)
          throw new RpcError(RpcErrorCode.MethodNotFound, "tracing is not served by this node");
        const n = await stateBlock(chain, ref ?? LATEST);
        const withGas =
          req.gas === undefined || req.gas > svc.opts.gasCap ? { ...req, gas: svc.opts.gasCap } : req;
        const out = await chain.traceCall(
          withGas,
          n,
          cfg ?? { timeoutMs: DEFAULT_TRACE_TIMEOUT_MS },
          ctx.signal,
        );
        return out as Json;
      },
    ),
    trace_transaction: method([required(hash)], async ([h], ctx) => traceOne(chain, h, FLAT, ctx.signal)),
    trace_block: method([required(blockNumberOrTag)], async ([ref], ctx) => {
      const block = await blockOf(chain, ref);
      if (block === undefined) return null;
      if (block.header.number === 0n) return [];
      const out = await tracing(chain)(block.header.hash, FLAT, undefined, ctx.signal);
      return out.flatMap((t) => (Array.isArray(t.result) ? (t.result as Json[]) : []));
    }),
  };
}
