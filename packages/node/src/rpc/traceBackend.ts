/**
 * `ChainReader.traceBlock` on an l2-exec Chain (ADR 0132): the committed block and its
 * parent's header go to an RPC EVM worker, which re-runs the block on the parent's state and
 * traces. Without a pool (tests, tools) the same engine runs in this thread.
 */
import { bytesToHex, type Hex } from "@dseq/common";
import { type Chain, createTraceEngine, type TraceEngine, type TraceJob } from "@dseq/l2-exec";
import { RpcError, RpcErrorCode, type TraceRequest, type TxTrace } from "@dseq/rpc";
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

export function traceBlockOf(chain: Chain, pool: CallPool | undefined): TraceBlock {
  let local: Promise<TraceEngine> | undefined;
  const inThread = (): Promise<TraceEngine> => {
    local ??= chain.callSource().then((s) => createTraceEngine({ genesisJson: s.genesisJson }, s));
    return local;
  };
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
      return await (await inThread()).trace(job);
    } catch (err) {
      if (err instanceof CallPoolError) {
        if (err.code === CallPoolErrorCode.Busy) throw new RpcError(RpcErrorCode.LimitExceeded, err.message);
        if (err.code === CallPoolErrorCode.Aborted)
          throw new RpcError(RpcErrorCode.Timeout, "request timed out");
        throw new RpcError(RpcErrorCode.Server, err.message);
      }
      throw new RpcError(RpcErrorCode.Server, err instanceof Error ? err.message : String(err));
    }
  };
}
