/**
 * eth_simulateV1 (execution-apis; ADR 0133): `blockStateCalls` with block and state overrides,
 * `validation`, `traceTransfers`, `returnFullTransactions`, on a base block's post-state. The
 * backend runs the whole request as one job in the RPC EVM workers (same deadline and gas cap
 * as eth_call); this file decodes strictly and shapes the reply as geth does.
 */
import { numberToHex } from "@dseq/common";
import { blockOverrides } from "../blockOverrides.ts";
import { type Services, stateBlock } from "../context.ts";
import { RpcError, RpcErrorCode } from "../errors.ts";
import { formatBlock, formatLog, type Json, type JsonObject } from "../format.ts";
import {
  address,
  blockRef,
  bool,
  callRequest,
  LATEST,
  optional,
  ParamError,
  type Parser,
  required,
  stateOverrides,
} from "../params.ts";
import { type MethodDef, method } from "../registry.ts";
import type { Address, SimulateBlockInput, SimulatedBlockData, SimulateRequest } from "../types.ts";

/** geth's maxSimulateBlocks: blockStateCalls entries, and blocks past the base. */
export const MAX_SIMULATE_BLOCKS = 256;
/** Calls in one request (geth has none beyond the gas cap; a hostile request is bounded here). */
export const MAX_SIMULATE_CALLS = 1_000;

type Obj = Record<string, unknown>;
function obj(v: unknown, goType: string): Obj {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw new ParamError(
      `json: cannot unmarshal ${Array.isArray(v) ? "array" : typeof v} into Go value of type ${goType}`,
    );
  return v as Obj;
}
const present = (v: unknown): boolean => v !== undefined && v !== null;

function only(o: Obj, allowed: string[], what: string): void {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) throw new ParamError(`unknown field ${JSON.stringify(k)} in ${what}`);
}

const simStateOverrides: Parser<NonNullable<SimulateBlockInput["stateOverrides"]>> = (v) => {
  const base = stateOverrides(v) as NonNullable<SimulateBlockInput["stateOverrides"]>;
  for (const [addr, raw] of Object.entries(obj(v, "override.StateOverride"))) {
    const acc = obj(raw, "override.OverrideAccount");
    only(
      acc,
      ["nonce", "code", "balance", "state", "stateDiff", "movePrecompileToAddress"],
      "override.OverrideAccount",
    );
    if (present(acc.movePrecompileToAddress)) {
      const key = Object.keys(base).find((a) => a.toLowerCase() === addr.toLowerCase()) as Address;
      (base[key] as { movePrecompileToAddress?: Address }).movePrecompileToAddress = address(
        acc.movePrecompileToAddress,
      );
    }
  }
  return base;
};

const blockStateCall: Parser<SimulateBlockInput> = (v) => {
  const o = obj(v, "ethapi.simBlock");
  only(o, ["blockOverrides", "stateOverrides", "calls"], "ethapi.simBlock");
  const out: SimulateBlockInput = { calls: [] };
  if (present(o.blockOverrides)) out.blockOverrides = blockOverrides(o.blockOverrides);
  if (present(o.stateOverrides)) out.stateOverrides = simStateOverrides(o.stateOverrides);
  if (present(o.calls)) {
    if (!Array.isArray(o.calls))
      throw new ParamError("json: cannot unmarshal non-array into Go value of type []ethapi.TransactionArgs");
    out.calls = o.calls.map((c) => callRequest(c));
  }
  return out;
};

type SimOpts = Omit<SimulateRequest, "gasCap"> & { returnFullTransactions: boolean };
const simOpts: Parser<SimOpts> = (v) => {
  const o = obj(v, "ethapi.simOpts");
  only(o, ["blockStateCalls", "validation", "traceTransfers", "returnFullTransactions"], "ethapi.simOpts");
  const raw = o.blockStateCalls;
  if (present(raw) && !Array.isArray(raw))
    throw new ParamError("json: cannot unmarshal non-array into Go value of type []ethapi.simBlock");
  const list = (raw ?? []) as unknown[];
  if (list.length === 0) throw new RpcError(RpcErrorCode.InvalidParams, "empty input");
  if (list.length > MAX_SIMULATE_BLOCKS) throw new RpcError(-38026, "too many blocks");
  const blockStateCalls = list.map((b) => blockStateCall(b));
  const calls = blockStateCalls.reduce((n, b) => n + b.calls.length, 0);
  if (calls > MAX_SIMULATE_CALLS)
    throw new RpcError(-38026, `too many calls (${calls} > ${MAX_SIMULATE_CALLS})`);
  return {
    blockStateCalls,
    validation: present(o.validation) ? bool(o.validation) : false,
    traceTransfers: present(o.traceTransfers) ? bool(o.traceTransfers) : false,
    returnFullTransactions: present(o.returnFullTransactions) ? bool(o.returnFullTransactions) : false,
  };
};

/** geth's simBlockResult: the block as eth_getBlockByNumber shows it, plus `calls`. */
export function formatSimulatedBlock(b: SimulatedBlockData, fullTx: boolean): JsonObject {
  const h = b.block.header;
  const calls: Json[] = b.calls.map((c, i) => {
    const tx = b.block.transactions[i];
    const out: JsonObject = {
      returnData: c.returnData,
      logs: c.logs.map(({ index, ...l }) =>
        formatLog(l, {
          blockHash: h.hash,
          blockNumber: h.number,
          blockTimestamp: h.timestamp,
          transactionHash: tx?.hash ?? h.hash,
          transactionIndex: i,
          logIndex: index,
        }),
      ),
      gasUsed: `0x${c.gasUsed.toString(16)}`,
      maxUsedGas: `0x${c.maxUsedGas.toString(16)}`,
      status: numberToHex(c.status),
    };
    if (c.error !== undefined) {
      const e: JsonObject = { message: c.error.message, code: c.error.code };
      if (c.error.data !== undefined) e.data = c.error.data;
      out.error = e;
    }
    return out;
  });
  return { ...formatBlock(b.block, fullTx), calls };
}

export function simulateMethods(svc: Services): Record<string, MethodDef> {
  const { chain, opts } = svc;
  const simulate = chain.simulate;
  if (simulate === undefined) return {};
  return {
    eth_simulateV1: method([required(simOpts), optional(blockRef, LATEST)], async ([o, ref], ctx) => {
      const n = await stateBlock(chain, ref ?? LATEST);
      const { returnFullTransactions, ...req } = o;
      const blocks = await simulate.call(chain, { ...req, gasCap: opts.gasCap }, n, ctx.signal);
      return blocks.map((b) => formatSimulatedBlock(b, returnFullTransactions)) as Json;
    }),
  };
}
