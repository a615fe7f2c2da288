/**
 * `ChainReader.traceBlock` on an l2-exec Chain (ADR 0132): the committed block and its
 * parent's header go to an RPC EVM worker, which re-runs the block on the parent's state and
 * traces. Without a pool (tests, tools) the same engine runs in this thread.
 */
import { bytesToHex, type Hex } from "@dseq/common";
import {
  type CallArgs,
  type Chain,
  createTraceEngine,
  type TraceCallJob,
  type TraceEngine,
  type TraceJob,
} from "@dseq/l2-exec";
import {
  type CallRequest,
  type ChainReader,
  RpcError,
  RpcErrorCode,
  type TraceRequest,
  type TxTrace,
} from "@dseq/rpc";
import type { CallPool } from "./callPool.ts";
import { CallPoolError, CallPoolErrorCode } from "./callPoolErrors.ts";

/** Largest struct-logger output of one transaction (geth has none; a hostile trace is bounded). */
export const MAX_STRUCT_LOG_BYTES = 64 * 1024 * 1024;

export type TraceBlock = (
  hash: Hex,
  req: TraceRequest,
  txIndex?: number,
  signal?: AbortSignal,
) => Promise<TxTrace[]>;

/** The rpc package's call request as l2-exec's call arguments. */
export function callArgsOf(req: CallRequest): CallArgs {
  return {
    ...(req.from === undefined ? {} : { from: req.from }),
    ...(req.to === undefined ? {} : { to: req.to }),
    ...(req.input === undefined ? {} : { data: req.input }),
    ...(req.value === undefined ? {} : { value: req.value }),
    ...(req.gas === undefined ? {} : { gas: req.gas }),
    ...(req.gasPrice === undefined ? {} : { gasPrice: req.gasPrice }),
    ...(req.maxFeePerGas === undefined ? {} : { maxFeePerGas: req.maxFeePerGas }),
    ...(req.maxPriorityFeePerGas === undefined ? {} : { maxPriorityFeePerGas: req.maxPriorityFeePerGas }),
    ...(req.accessList === undefined ? {} : { accessList: req.accessList }),
    ...(req.nonce === undefined ? {} : { nonce: req.nonce }),
    ...(req.authorizationList === undefined ? {} : { authorizationList: req.authorizationList }),
  };
}

export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  // An eth_simulateV1 refusal (SimulateError, or its copy from a worker) keeps its code.
  const rpcCode = (err as { rpcCode?: unknown } | null)?.rpcCode;
  if (typeof rpcCode === "number") return new RpcError(rpcCode, (err as Error).message);
  if (err instanceof CallPoolError) {
    if (err.code === CallPoolErrorCode.Busy) return new RpcError(RpcErrorCode.LimitExceeded, err.message);
    if (err.code === CallPoolErrorCode.Aborted)
      return new RpcError(RpcErrorCode.Timeout, "request timed out");
    return new RpcError(RpcErrorCode.Server, err.message);
  }
  return new RpcError(RpcErrorCode.Server, err instanceof Error ? err.message : String(err));
}

const engines = new WeakMap<Chain, Promise<TraceEngine>>();
function inThread(chain: Chain): Promise<TraceEngine> {
  let e = engines.get(chain);
  if (e === undefined) {
    e = chain.callSource().then((s) => createTraceEngine({ genesisJson: s.genesisJson }, s));
    engines.set(chain, e);
  }
  return e;
}

export function traceCallOf(chain: Chain, pool: CallPool | undefined): NonNullable<ChainReader["traceCall"]> {
  return async (req, n, trace, signal) => {
    const block = await chain.getBlockByNumber(n);
    if (block === undefined) throw new RpcError(RpcErrorCode.Server, "header not found");
    const { timeoutMs, overrides, blockOverrides, ...tracer } = trace;
    const job: TraceCallJob = {
      header: block.header.serialize(),
      args: callArgsOf(req),
      gasCap: req.gas ?? 50_000_000n,
      tracer,
      timeoutMs,
      maxStructLogBytes: MAX_STRUCT_LOG_BYTES,
      ...(overrides === undefined ? {} : { overrides }),
      ...(blockOverrides === undefined ? {} : { block: blockOverrides }),
    };
    try {
      if (pool !== undefined) return await pool.traceCall(job, signal);
      return await (await inThread(chain)).traceCall(job);
    } catch (err) {
      throw toRpcError(err);
    }
  };
}

export function traceBlockOf(chain: Chain, pool: CallPool | undefined): TraceBlock {
  return async (hash, req, txIndex, signal) => {
    const block = await chain.getBlockByHash(hash);
    if (block === undefined) throw new RpcError(RpcErrorCode.Server, `block ${hash} not found`);
    if (block.header.number === 0n) throw new RpcError(RpcErrorCode.Server, "genesis is not traceable");
    const parentHeader = await chain.getRawHeader(bytesToHex(block.header.parentHash));
    if (parentHeader === undefined) throw new RpcError(RpcErrorCode.Server, "parent block not found");
    const { timeoutMs, ...tracer } = req;
    const job: TraceJob = {
      block: block.serialize(),
      parentHeader,
      tracer,
      timeoutMs,
      maxStructLogBytes: MAX_STRUCT_LOG_BYTES,
      ...(txIndex === undefined ? {} : { txIndex }),
    };
    try {
      if (pool !== undefined) return await pool.trace(job, signal);
      return await (await inThread(chain)).trace(job);
    } catch (err) {
      throw toRpcError(err);
    }
  };
}
