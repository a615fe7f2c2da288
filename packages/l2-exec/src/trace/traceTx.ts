import type { Block } from "@ethereumjs/block";
import type { TypedTransaction } from "@ethereumjs/tx";
import { bytesToHex, generateAddress } from "@ethereumjs/util";
import { type RunTxResult, runTx, type VM } from "@ethereumjs/vm";
import { attachEvmHooks } from "./evmHooks.ts";
import type { Hex, Tracer, TxEnv } from "./hooks.ts";
import { TraceError, TraceErrorCode } from "./traceErrors.ts";

export type TraceTxOptions = {
  /** Index of the transaction's first log in its block. */
  logIndex?: number;
  /** Gas the block's earlier transactions used (receipts' cumulative gas). */
  blockGasUsed?: bigint;
  /** Aborts the run between opcodes (timeouts, a client that went away). */
  signal?: AbortSignal;
  /** Runs the transaction as a call: nonce and balance checks off, the gas price may be 0. */
  asCall?: boolean;
};

export type TraceTxResult = { result: unknown; run: RunTxResult; logs: number };

/** Addresses of the precompiles the VM runs with (lower-case, `0x`). */
export function activePrecompiles(vm: VM): Set<string> {
  return new Set([...vm.evm.precompiles.keys()].map((k) => `0x${k.toLowerCase()}`));
}

/**
 * Runs `tx` in `block` on the VM's state with `tracer` attached, the way geth's tracers see a
 * transaction: `onTxStart` on the state before the transaction, frames and opcodes while it
 * runs, `onTxEnd` with the receipt's gas on the state after it. The state changes stay in the
 * VM (a block replay runs the next transaction on top).
 */
export async function traceTx(
  vm: VM,
  block: Block,
  tx: TypedTransaction,
  tracer: Tracer,
  opts: TraceTxOptions = {},
): Promise<TraceTxResult> {
  const from = tx.getSenderAddress();
  const created = tx.to === undefined;
  const to = created
    ? (bytesToHex(
        generateAddress(from.bytes, tx.nonce === 0n ? new Uint8Array(0) : bigToBytes(tx.nonce)),
      ) as Hex)
    : (tx.to?.toString().toLowerCase() as Hex);
  const env: TxEnv = {
    tx,
    from: from.toString().toLowerCase() as Hex,
    to,
    created,
    coinbase: block.header.coinbase.toString().toLowerCase() as Hex,
    blockNumber: block.header.number,
    timestamp: block.header.timestamp,
    state: vm.stateManager,
    isActivatedEIP: (eip) => vm.common.isActivatedEIP(eip),
    gteHardfork: (hf) => vm.common.gteHardfork(hf),
    precompiles: activePrecompiles(vm),
  };
  await tracer.onTxStart?.(env);
  const signal = opts.signal;
  const hooks = attachEvmHooks(vm.evm, env, tracer, {
    ...(opts.logIndex !== undefined ? { logIndex: opts.logIndex } : {}),
    ...(signal !== undefined
      ? {
          check: () => {
            if (signal.aborted)
              throw new TraceError(TraceErrorCode.Timeout, "execution timeout", { cause: signal.reason });
          },
        }
      : {}),
  });
  let run: RunTxResult;
  try {
    run = await runTx(vm, {
      tx,
      block,
      skipHardForkValidation: true,
      ...(opts.blockGasUsed !== undefined ? { blockGasUsed: opts.blockGasUsed } : {}),
      ...(opts.asCall === true
        ? { skipNonce: true, skipBalance: true, skipBlockGasLimitValidation: true }
        : {}),
    });
  } finally {
    hooks.detach();
  }
  await tracer.onTxEnd?.(run.totalGasSpent, env);
  return { result: tracer.result(), run, logs: hooks.logCount() };
}

function bigToBytes(v: bigint): Uint8Array {
  let s = v.toString(16);
  if (s.length % 2) s = `0${s}`;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}
