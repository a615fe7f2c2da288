/**
 * debug_traceCall's EVM side (ADR 0132): one call, run as geth's traceCall runs it (nonce and
 * balance checks off, no base fee without a gas price), with a tracer attached.
 */
import type { Block } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import type { EVMMockBlockchainInterface } from "@ethereumjs/evm";
import type { MerkleStateManager } from "@ethereumjs/statemanager";
import { createTx, type TypedTransaction, type TypedTxData } from "@ethereumjs/tx";
import { type Address, createAddressFromString, hexToBytes } from "@ethereumjs/util";
import { createVM } from "@ethereumjs/vm";
import { type BlockOverrides, withBlockOverrides } from "../callEnv.ts";
import { applyOverrides, type CallArgs, type StateOverrides } from "../calls.ts";
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

function callTx(common: Common, args: CallArgs, gasLimit: bigint, nonce: bigint): TypedTransaction {
  const data =
    args.data === undefined ? undefined : typeof args.data === "string" ? hexToBytes(args.data) : args.data;
  const base = {
    nonce,
    gasLimit,
    value: args.value ?? 0n,
    ...(args.to ? { to: args.to } : {}),
    ...(data !== undefined ? { data } : {}),
  };
  const dynamic = args.maxFeePerGas !== undefined || args.maxPriorityFeePerGas !== undefined;
  const tx = dynamic
    ? createTx(
        {
          ...base,
          type: 2,
          maxFeePerGas: args.maxFeePerGas ?? 0n,
          maxPriorityFeePerGas: args.maxPriorityFeePerGas ?? 0n,
          accessList: args.accessList ?? [],
        } as TypedTxData,
        { common, freeze: false },
      )
    : args.accessList !== undefined && common.isActivatedEIP(2930)
      ? createTx(
          { ...base, type: 1, gasPrice: args.gasPrice ?? 0n, accessList: args.accessList } as TypedTxData,
          {
            common,
            freeze: false,
          },
        )
      : createTx({ ...base, type: 0, gasPrice: args.gasPrice ?? 0n } as TypedTxData, {
          common,
          freeze: false,
        });
  const from = createAddressFromString(args.from ?? ZERO);
  (tx as { getSenderAddress: () => Address }).getSenderAddress = () => from;
  return tx;
}

/** Runs `job` on `stateManager` (the post-state of `base`) and returns the tracer's result. */
export async function traceCallOn(
  base: Block,
  stateManager: MerkleStateManager,
  blockchain: EVMMockBlockchainInterface,
  job: TraceCallJob,
  signal: AbortSignal,
): Promise<unknown> {
  if (job.args.authorizationList !== undefined)
    throw new Error("debug_traceCall with an authorization list is not supported");
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
  const tx = callTx(base.common, job.args, job.args.gas ?? job.gasCap, nonce);
  const tracer = createTracer(
    job.tracer,
    job.maxStructLogBytes !== undefined ? { maxStructLogBytes: job.maxStructLogBytes } : {},
  );
  const r = await traceTx(vm, block, tx, tracer, { asCall: true, signal });
  return r.result;
}
