/** eth_call, eth_estimateGas (geth's estimator), eth_createAccessList, eth_sendRawTransaction. */
import { hexToBytes } from "@dseq/common";
import { blockOverrides as blockOverridesParam } from "../blockOverrides.ts";
import { type Services, stateBlock } from "../context.ts";
import { executionReverted, RpcError, RpcErrorCode } from "../errors.ts";
import type { BlockRef } from "../params.ts";
import {
  blockRef,
  callRequest,
  data as dataParam,
  LATEST,
  optional,
  required,
  stateOverrides,
} from "../params.ts";
import { type MethodDef, method } from "../registry.ts";
import type {
  AccessListEntry,
  BlockOverridesData,
  CallRequest,
  CallResult,
  StateOverrides,
} from "../types.ts";

const TX_GAS = 21_000n;
const CALL_STIPEND = 2_300n;
/** geth's estimateGasErrorRatio: stop bisecting within 1.5 %, erring high. */
const ESTIMATE_ERROR_RATIO = 0.015;
const GAS_PER_BLOB = 131_072n;

function serverError(message: string): RpcError {
  return new RpcError(RpcErrorCode.Server, message);
}

/** The block environment a call runs in (ADR 0131): the next block's for `pending`. */
type CallEnv = { nextBlock: boolean; blockOverrides?: BlockOverridesData };

function callEnv(nextBlock: boolean, blockOverrides: BlockOverridesData | undefined): CallEnv {
  return blockOverrides === undefined ? { nextBlock } : { nextBlock, blockOverrides };
}

const isTag = (ref: BlockRef | undefined, ...tags: string[]): boolean =>
  ref !== undefined && ref.kind === "tag" && tags.includes(ref.tag);

/** Maps a call result to geth's eth_call reply (errors thrown). */
function callOutcome(res: CallResult): `0x${string}` {
  switch (res.status) {
    case "success":
      return res.returnData;
    case "reverted":
      throw executionReverted(res.returnData);
    case "failed":
      throw serverError(res.error);
    case "invalid":
      throw serverError(res.error);
  }
}

function sameAccessList(a: AccessListEntry[], b: AccessListEntry[]): boolean {
  const key = (l: AccessListEntry[]): string =>
    l
      .map((e) => `${e.address}:${[...e.storageKeys].sort().join(",")}`)
      .sort()
      .join(";");
  return key(a) === key(b);
}

export function executionMethods(svc: Services): Record<string, MethodDef> {
  const { chain, opts } = svc;

  /** The RPC gas cap, lowered to the chain's per-transaction cap where one applies. */
  function gasCapAt(block: bigint): bigint {
    const chainCap = chain.txGasCap?.(block);
    return chainCap !== undefined && chainCap < opts.gasCap ? chainCap : opts.gasCap;
  }

  function withGas(req: CallRequest, block: bigint): CallRequest {
    const cap = gasCapAt(block);
    const gas = req.gas === undefined || req.gas > cap ? cap : req.gas;
    return { ...req, gas };
  }

  /** geth's eth/gasestimator.Estimate. */
  async function estimate(
    req: CallRequest,
    block: bigint,
    overrides: StateOverrides | undefined,
    signal: AbortSignal,
    env: CallEnv,
  ) {
    const header = await chain.getHeader(block);
    if (header === undefined) throw serverError("header not found");
    const gasLimit = env.blockOverrides?.gasLimit ?? header.gasLimit;
    let hi = req.gas !== undefined && req.gas >= TX_GAS ? req.gas : gasLimit;
    const feeCap = req.gasPrice ?? req.maxFeePerGas ?? 0n;
    if (feeCap > 0n) {
      const override = req.from === undefined ? undefined : overrides?.[req.from]?.balance;
      const balance =
        override ?? (req.from === undefined ? 0n : (await chain.getAccount(req.from, block)).balance);
      let available = balance;
      const value = req.value ?? 0n;
      if (value > 0n) {
        if (value >= available) throw serverError("insufficient funds for transfer");
        available -= value;
      }
      const blobs = BigInt(req.blobVersionedHashes?.length ?? 0);
      if (blobs > 0n && req.maxFeePerBlobGas !== undefined) {
        const blobCost = blobs * GAS_PER_BLOB * req.maxFeePerBlobGas;
        if (blobCost >= available) throw serverError("insufficient funds for blob fee");
        available -= blobCost;
      }
      const allowance = available / feeCap;
      if (hi > allowance) hi = allowance;
    }
    const cap = gasCapAt(block);
    if (hi > cap) hi = cap;
    const callOpts = overrides === undefined ? { signal, ...env } : { overrides, signal, ...env };

    const run = async (gas: bigint): Promise<{ failed: boolean; res: CallResult }> => {
      if (signal.aborted) throw signal.reason;
      const res = await chain.call({ ...req, gas }, block, callOpts);
      if (res.status === "invalid") {
        if (res.intrinsicGasTooLow === true) return { failed: true, res };
        throw serverError(res.error);
      }
      return { failed: res.status !== "success", res };
    };

    // A plain transfer to a codeless account: try 21000 first.
    if ((req.input === undefined || req.input === "0x") && req.to !== undefined && req.to !== null) {
      const code = overrides?.[req.to]?.code ?? (await chain.getCode(req.to, block));
      if (code === "0x") {
        const { failed } = await run(TX_GAS);
        if (!failed) return TX_GAS;
      }
    }
    const first = await run(hi);
    if (first.failed) {
      const r = first.res;
      if (r.status === "reverted") throw executionReverted(r.returnData);
      if (r.status === "failed" && !/out of gas/i.test(r.error)) throw serverError(r.error);
      throw serverError(`gas required exceeds allowance (${hi})`);
    }
    const used = first.res.status === "success" ? first.res : undefined;
    if (used === undefined) return hi;
    let lo = used.gasUsed - 1n;
    const optimistic = ((used.gasUsed + used.gasRefund + CALL_STIPEND) * 64n) / 63n;
    if (optimistic < hi) {
      const { failed } = await run(optimistic);
      if (failed) lo = optimistic;
      else hi = optimistic;
    }
    while (lo + 1n < hi) {
      if (Number(hi - lo) / Number(hi) < ESTIMATE_ERROR_RATIO) break;
      let mid = (hi + lo) / 2n;
      if (mid > lo * 2n) mid = lo * 2n;
      const { failed } = await run(mid);
      if (failed) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  const defs: Record<string, MethodDef> = {
    eth_call: method(
      [
        required(callRequest),
        optional(blockRef, LATEST),
        optional(stateOverrides),
        optional(blockOverridesParam),
      ],
      async ([req, ref, overrides, blockOv], ctx) => {
        const n = await stateBlock(chain, ref ?? LATEST);
        const env = callEnv(isTag(ref, "pending"), blockOv);
        const callOpts =
          overrides === undefined
            ? { signal: ctx.signal, ...env }
            : { overrides, signal: ctx.signal, ...env };
        return callOutcome(await chain.call(withGas(req, n), n, callOpts));
      },
    ),
    // The estimate is for a transaction sent now, so by default (and for latest/pending) it runs
    // in the next block's environment on the latest state (ADR 0131).
    eth_estimateGas: method(
      [required(callRequest), optional(blockRef), optional(stateOverrides), optional(blockOverridesParam)],
      async ([req, ref, overrides, blockOv], ctx) => {
        const n = await stateBlock(chain, ref ?? LATEST);
        const env = callEnv(ref === undefined || isTag(ref, "latest", "pending"), blockOv);
        return `0x${(await estimate(req, n, overrides, ctx.signal, env)).toString(16)}`;
      },
    ),
    eth_createAccessList: method(
      [required(callRequest), optional(blockRef, LATEST)],
      async ([req, ref], ctx) => {
        const n = await stateBlock(chain, ref ?? LATEST);
        const nextBlock = isTag(ref, "pending");
        let list: AccessListEntry[] = req.accessList ?? [];
        // geth: rerun with the list found so far until it stops changing.
        for (let i = 0; i < 8; i++) {
          const res = await chain.call(withGas({ ...req, accessList: list }, n), n, {
            traceAccessList: true,
            signal: ctx.signal,
            nextBlock,
          });
          if (res.status === "invalid") throw serverError(`failed to apply transaction: err: ${res.error}`);
          const found = res.accessList ?? [];
          if (sameAccessList(found, list) || i === 7) {
            const out: Record<string, string | AccessListEntry[]> = { accessList: found };
            if (res.status === "reverted") out.error = "execution reverted";
            if (res.status === "failed") out.error = res.error;
            out.gasUsed = `0x${res.gasUsed.toString(16)}`;
            return out as never;
          }
          list = found;
        }
        throw serverError("access list did not converge");
      },
    ),
  };

  const submit = svc.backend.submitRawTransaction;
  if (submit !== undefined) {
    defs.eth_sendRawTransaction = method([required(dataParam)], async ([raw]) => {
      const bytes = hexToBytes(raw);
      if (bytes.length === 0) throw serverError("typed transaction too short");
      return submit(bytes);
    });
  }
  return defs;
}
