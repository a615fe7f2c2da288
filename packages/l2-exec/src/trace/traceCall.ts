/**
 * debug_traceCall's EVM side (ADR 0132): one call, run as geth's traceCall runs it (nonce and
 * balance checks off, no base fee without a gas price), with a tracer attached.
 */
import type { Block } from "@ethereumjs/block";
import type { EVMMockBlockchainInterface } from "@ethereumjs/evm";
import type { MerkleStateManager } from "@ethereumjs/statemanager";
import { createAddressFromString } from "@ethereumjs/util";
import { createVM } from "@ethereumjs/vm";
import { type BlockOverrides, withBlockOverrides } from "../callEnv.ts";
import { applyOverrides, type CallArgs, callTx, type StateOverrides } from "../calls.ts";
import { createTracer, type TracerOptions } from "./createTracer.ts";
import { traceTx } from "./traceTx.ts";

export type TraceCallJob = {
  /** RLP of the header of the block whose post-state the call runs on. */
  header: Uint8Array;
  args: CallArgs;
  overrides?: StateOverrides;
  block?: BlockOverrides;
  /** Gas when the call names none (the RPC gas cap). */
  gasCap: bigint;
  tracer: TracerOptions;
  timeoutMs: number;
  maxStructLogBytes?: number;
};

const ZERO = `0x${"00".repeat(20)}`;

/** Runs `job` on `stateManager` (the post-state of `base`) and returns the tracer's result. */
export async function traceCallOn(
  base: Block,
  stateManager: MerkleStateManager,
  blockchain: EVMMockBlockchainInterface,
  job: TraceCallJob,
  signal: AbortSignal,
): Promise<unknown> {
  await applyOverrides(stateManager, job.overrides);
  const noPrice =
    job.args.gasPrice === undefined &&
    job.args.maxFeePerGas === undefined &&
    job.args.maxPriorityFeePerGas === undefined;
  const env: BlockOverrides = { ...job.block };
  if (noPrice && base.header.baseFeePerGas !== undefined) env.baseFeePerGas = 0n;
  const block = withBlockOverrides(base, env);
  const vm = await createVM({ common: base.common, stateManager, blockchain });
  const from = createAddressFromString(job.args.from ?? ZERO);
  const nonce = job.args.nonce ?? (await stateManager.getAccount(from))?.nonce ?? 0n;
  // eth_call's transaction (an authorization list makes it type 4; each authority is recovered
  // and delegated as in a block); fees unset stay 0, as geth's traceCall.
  const tx = callTx(base.common, job.args, job.args.gas ?? job.gasCap, nonce, undefined);
  const tracer = createTracer(
    job.tracer,
    job.maxStructLogBytes !== undefined ? { maxStructLogBytes: job.maxStructLogBytes } : {},
  );
  const r = await traceTx(vm, block, tx, tracer, { asCall: true, signal });
  return r.result;
}
