import type { Block } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import type { EVMMockBlockchainInterface } from "@ethereumjs/evm";
import type { MerkleStateManager } from "@ethereumjs/statemanager";
import { createTx, type TypedTransaction, type TypedTxData } from "@ethereumjs/tx";
import {
  type Address,
  bytesToHex,
  createAddressFromString,
  hexToBytes,
  setLengthLeft,
} from "@ethereumjs/util";
import { createVM, type RunTxResult, runTx, type VM } from "@ethereumjs/vm";
import { type BlockOverrides, withBlockOverrides } from "./callEnv.ts";
import type { Hex } from "./receipts.ts";

/** Arguments of `eth_call` / `eth_estimateGas` (decoded). */
export type CallArgs = {
  from?: Hex;
  to?: Hex | null;
  data?: Hex | Uint8Array;
  value?: bigint;
  gas?: bigint;
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  accessList?: { address: Hex; storageKeys: Hex[] }[];
  nonce?: bigint;
  /** EIP-7702: makes the call a type-4 transaction; each authority is recovered as in a block. */
  authorizationList?: AuthorizationArg[];
};

/** A signed EIP-7702 authorization (decoded). */
export type AuthorizationArg = {
  chainId: bigint;
  address: Hex;
  nonce: bigint;
  yParity: number;
  r: bigint;
  s: bigint;
};

const hexOf = (n: bigint | number): Hex => `0x${n.toString(16)}`;

/** geth-style state override set: replaces parts of accounts for one call only. */
export type StateOverrides = Record<
  string,
  {
    balance?: bigint;
    nonce?: bigint;
    code?: Hex;
    /** Replaces the whole storage. */
    state?: Record<string, Hex>;
    /** Changes single slots. */
    stateDiff?: Record<string, Hex>;
  }
>;

export type CallResult = {
  /** Return data, or revert data when `reverted`. */
  returnData: Uint8Array;
  gasUsed: bigint;
  reverted: boolean;
  /** EVM exception (`revert`, `out of gas`, ...) when the call failed. */
  error?: string;
  logs: { address: Hex; topics: Hex[]; data: Hex }[];
  /**
   * With `{accessList: true}`: the addresses and storage slots the call touched, as
   * eth_createAccessList reports them (like geth: the sender, the recipient and precompiles
   * appear only with storage slots, since they are warm anyway).
   */
  accessList?: { address: Hex; storageKeys: Hex[] }[];
};

export type CallOptions = {
  accessList?: boolean;
  /** The call's block environment differs from its state's block this way (ADR 0131). */
  block?: BlockOverrides;
};

export async function applyOverrides(
  sm: MerkleStateManager,
  overrides: StateOverrides | undefined,
): Promise<void> {
  if (overrides === undefined) return;
  const { Account } = await import("@ethereumjs/util");
  for (const [addrHex, o] of Object.entries(overrides)) {
    const address = createAddressFromString(addrHex);
    let account = (await sm.getAccount(address)) ?? new Account();
    if (o.balance !== undefined) account.balance = o.balance;
    if (o.nonce !== undefined) account.nonce = o.nonce;
    await sm.putAccount(address, account);
    if (o.code !== undefined) await sm.putCode(address, hexToBytes(o.code));
    if (o.state !== undefined) {
      await sm.clearStorage(address);
      for (const [k, v] of Object.entries(o.state))
        await sm.putStorage(address, setLengthLeft(hexToBytes(k as Hex), 32), hexToBytes(v));
    }
    if (o.stateDiff !== undefined) {
      for (const [k, v] of Object.entries(o.stateDiff))
        await sm.putStorage(address, setLengthLeft(hexToBytes(k as Hex), 32), hexToBytes(v));
    }
    account = (await sm.getAccount(address)) ?? account;
  }
}

const ZERO = `0x${"00".repeat(20)}` as Hex;

/** The unsigned transaction a call runs as (type 4 with an authorization list, 2 with fee caps, 1 with an access list, else 0). */
export function callTx(
  common: Common,
  args: CallArgs,
  gasLimit: bigint,
  nonce: bigint,
  baseFee: bigint | undefined,
): TypedTransaction {
  const data =
    args.data === undefined ? undefined : typeof args.data === "string" ? hexToBytes(args.data) : args.data;
  const base: TypedTxData = {
    nonce,
    gasLimit,
    value: args.value ?? 0n,
    ...(args.to ? { to: args.to } : {}),
    ...(data !== undefined ? { data } : {}),
  };
  let tx: TypedTransaction;
  if (args.authorizationList !== undefined) {
    tx = createTx(
      {
        ...base,
        type: 4,
        maxFeePerGas: args.maxFeePerGas ?? args.gasPrice ?? baseFee ?? 0n,
        maxPriorityFeePerGas: args.maxPriorityFeePerGas ?? args.gasPrice ?? 0n,
        accessList: args.accessList ?? [],
        authorizationList: args.authorizationList.map((a) => ({
          chainId: hexOf(a.chainId),
          address: a.address,
          nonce: hexOf(a.nonce),
          yParity: hexOf(a.yParity),
          r: hexOf(a.r),
          s: hexOf(a.s),
        })),
      } as TypedTxData,
      { common, freeze: false },
    );
  } else if (args.maxFeePerGas !== undefined || args.maxPriorityFeePerGas !== undefined) {
    tx = createTx(
      {
        ...base,
        type: 2,
        maxFeePerGas: args.maxFeePerGas ?? baseFee ?? 0n,
        maxPriorityFeePerGas: args.maxPriorityFeePerGas ?? 0n,
        accessList: args.accessList ?? [],
      } as TypedTxData,
      { common, freeze: false },
    );
  } else if (args.accessList !== undefined && common.isActivatedEIP(2930)) {
    tx = createTx(
      { ...base, type: 1, gasPrice: args.gasPrice ?? 0n, accessList: args.accessList } as TypedTxData,
      { common, freeze: false },
    );
  } else {
    tx = createTx({ ...base, type: 0, gasPrice: args.gasPrice ?? 0n } as TypedTxData, {
      common,
      freeze: false,
    });
  }
  const from = createAddressFromString(args.from ?? ZERO);
  (tx as { getSenderAddress: () => Address }).getSenderAddress = () => from;
  return tx;
}

export type CallContext = {
  common: Common;
  stateManager: MerkleStateManager;
  /** The block whose environment the call runs in (number, timestamp, coinbase, base fee). */
  block: Block;
  blockchain: EVMMockBlockchainInterface;
};

async function callVm(ctx: CallContext): Promise<VM> {
  return createVM({ common: ctx.common, stateManager: ctx.stateManager, blockchain: ctx.blockchain });
}

/** Block environment for a call: the fee rules of geth's eth_call (no base fee without a price). */
function envBlock(ctx: CallContext, args: CallArgs): Block {
  const noPrice =
    args.gasPrice === undefined && args.maxFeePerGas === undefined && args.maxPriorityFeePerGas === undefined;
  if (!noPrice || ctx.block.header.baseFeePerGas === undefined || ctx.block.header.baseFeePerGas === 0n)
    return ctx.block;
  // A copy of the header with base fee 0, so a call without a gas price is not refused.
  const copy = Object.create(ctx.block) as Block;
  const header = Object.create(ctx.block.header) as Block["header"];
  Object.defineProperty(header, "baseFeePerGas", { value: 0n });
  Object.defineProperty(copy, "header", { value: header });
  return copy;
}

async function runOnce(
  vm: VM,
  ctx: CallContext,
  args: CallArgs,
  gasLimit: bigint,
  reportAccessList = false,
): Promise<RunTxResult> {
  const from = createAddressFromString(args.from ?? ZERO);
  const nonce = args.nonce ?? (await ctx.stateManager.getAccount(from))?.nonce ?? 0n;
  const block = envBlock(ctx, args);
  const tx = callTx(ctx.common, args, gasLimit, nonce, block.header.baseFeePerGas);
  await vm.evm.journal.checkpoint();
  try {
    return await runTx(vm, {
      tx,
      block,
      skipNonce: true,
      skipBalance: args.gasPrice === undefined && args.maxFeePerGas === undefined,
      skipBlockGasLimitValidation: true,
      skipHardForkValidation: true,
      reportAccessList,
    });
  } finally {
    await vm.evm.journal.revert();
  }
}

/** Precompiles are warm from the start (0x01-0x11 through Prague, 0x100 from Osaka). */
function isPrecompile(address: Hex): boolean {
  const n = BigInt(address);
  return (n >= 1n && n <= 0x11n) || n === 0x100n;
}

function accessListOf(res: RunTxResult, args: CallArgs): { address: Hex; storageKeys: Hex[] }[] {
  const skip = new Set([(args.from ?? ZERO).toLowerCase(), (args.to ?? "").toLowerCase()]);
  const out: { address: Hex; storageKeys: Hex[] }[] = [];
  for (const item of res.accessList ?? []) {
    const address = item.address.toLowerCase() as Hex;
    if (item.storageKeys.length === 0 && (skip.has(address) || isPrecompile(address))) continue;
    out.push({
      address,
      storageKeys: item.storageKeys.map((k) => `0x${k.slice(2).padStart(64, "0")}` as Hex),
    });
  }
  return out;
}

function toResult(res: RunTxResult, args?: CallArgs): CallResult {
  const err = res.execResult.exceptionError;
  return {
    ...(args !== undefined ? { accessList: accessListOf(res, args) } : {}),
    returnData: res.execResult.returnValue,
    gasUsed: res.totalGasSpent,
    reverted: err !== undefined,
    ...(err !== undefined ? { error: err.error } : {}),
    logs: (res.execResult.logs ?? []).map(([a, t, d]) => ({
      address: bytesToHex(a),
      topics: t.map((x) => bytesToHex(x)),
      data: bytesToHex(d),
    })),
  };
}

/** `eth_call`: runs `args` on the given state; nothing is kept. */
export async function call(
  ctx: CallContext,
  args: CallArgs,
  overrides?: StateOverrides,
  opts: CallOptions = {},
): Promise<CallResult> {
  if (opts.block !== undefined) ctx = { ...ctx, block: withBlockOverrides(ctx.block, opts.block) };
  await applyOverrides(ctx.stateManager, overrides);
  const vm = await callVm(ctx);
  const gas = args.gas ?? (ctx.block.header.gasLimit > 50_000_000n ? ctx.block.header.gasLimit : 50_000_000n);
  const res = await runOnce(vm, ctx, args, gas, opts.accessList === true);
  return toResult(res, opts.accessList === true ? args : undefined);
}

/**
 * `eth_estimateGas`: the smallest gas limit with which `args` succeeds (binary search, the
 * first probe just above the gas the unbounded run used, as geth does).
 */
export async function estimateGas(
  ctx: CallContext,
  args: CallArgs,
  overrides?: StateOverrides,
): Promise<bigint> {
  await applyOverrides(ctx.stateManager, overrides);
  const data = args.data === undefined ? 0 : args.data.length - (typeof args.data === "string" ? 2 : 0);
  if (args.to && data === 0) {
    // geth's shortcut: a plain value transfer to an account without code costs exactly 21000.
    const code = await ctx.stateManager.getCode(createAddressFromString(args.to));
    if (code.length === 0) return 21_000n;
  }
  const vm = await callVm(ctx);
  let hi = args.gas ?? ctx.block.header.gasLimit;
  const first = await runOnce(vm, ctx, args, hi);
  if (first.execResult.exceptionError !== undefined) {
    const e = new Error(`execution failed: ${first.execResult.exceptionError.error}`) as Error & {
      data?: Uint8Array;
    };
    e.data = first.execResult.returnValue;
    throw e;
  }
  const ok = async (gas: bigint): Promise<boolean> => {
    try {
      const r = await runOnce(vm, ctx, args, gas);
      return r.execResult.exceptionError === undefined;
    } catch {
      return false;
    }
  };
  // geth's eth_estimateGas: optimistic probe, then bisection to a 1.5% error ratio.
  let lo = first.totalGasSpent - 1n;
  const optimistic = ((first.totalGasSpent + first.gasRefund + 2300n) * 64n) / 63n;
  if (optimistic < hi) {
    if (await ok(optimistic)) hi = optimistic;
    else lo = optimistic;
  }
  while (lo + 1n < hi) {
    if (Number(hi - lo) / Number(hi) < 0.015) break;
    let mid = (hi + lo) / 2n;
    if (mid > lo * 2n) mid = lo * 2n;
    if (await ok(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
