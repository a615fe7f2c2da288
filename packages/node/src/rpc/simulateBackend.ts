/**
 * `ChainReader.simulate` on an l2-exec Chain (ADR 0133): the base block's header and the
 * decoded request go to an RPC EVM worker as one job, under the call deadline and gas cap.
 * Without a pool (tests, tools) the same engine runs in this thread.
 */
import { type Chain, createSimulateEngine, type SimulateEngine, type SimulateJob } from "@dseq/l2-exec";
import { type ChainReader, RpcError, RpcErrorCode, type SimulatedBlockData } from "@dseq/rpc";
import type { CallPool } from "./callPool.ts";
import { simulatedToData } from "./simulateData.ts";
import { callArgsOf, toRpcError } from "./traceBackend.ts";

/** geth's default `rpc.evmtimeout` for a request that runs in this thread. */
const IN_THREAD_TIMEOUT_MS = 5_000;

const engines = new WeakMap<Chain, Promise<SimulateEngine>>();
function inThread(chain: Chain): Promise<SimulateEngine> {
  let e = engines.get(chain);
  if (e === undefined) {
    e = chain.callSource().then((s) => createSimulateEngine({ genesisJson: s.genesisJson }, s));
    engines.set(chain, e);
  }
  return e;
}

export function simulateOf(
  chain: Chain,
  pool: CallPool | undefined,
  blockTimeSec: bigint,
): NonNullable<ChainReader["simulate"]> {
  return async (req, n, signal) => {
    const block = await chain.getBlockByNumber(n);
    if (block === undefined) throw new RpcError(RpcErrorCode.Server, "header not found");
    const job: SimulateJob = {
      header: block.header.serialize(),
      blocks: req.blockStateCalls.map((b) => ({
        ...(b.blockOverrides === undefined ? {} : { block: b.blockOverrides }),
        ...(b.stateOverrides === undefined ? {} : { state: b.stateOverrides }),
        calls: b.calls.map(callArgsOf),
      })),
      validation: req.validation,
      traceTransfers: req.traceTransfers,
      gasCap: req.gasCap,
      blockTimeSec,
      timeoutMs: pool?.opts.evmTimeoutMs ?? IN_THREAD_TIMEOUT_MS,
    };
    try {
      if (pool !== undefined) return (await pool.simulate(job, signal)) as SimulatedBlockData[];
      return simulatedToData(await (await inThread(chain)).simulate(job));
    } catch (err) {
      throw toRpcError(err);
    }
  };
}
