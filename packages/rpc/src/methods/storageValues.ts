/**
 * eth_getStorageValues (execution-apis): many storage slots of many accounts at one block, as
 * geth answers it (ADR 0134): an empty map is "empty request", more than 1,024 slots in all is
 * refused before any read, and each value is the 32-byte word `eth_getStorageAt` returns.
 */

import type { Hex } from "@dseq/common";
import { type Services, stateBlock } from "../context.ts";
import { RpcError, RpcErrorCode } from "../errors.ts";
import {
  address,
  blockRef,
  LATEST,
  optional,
  ParamError,
  type Parser,
  required,
  storageKey,
} from "../params.ts";
import { type MethodDef, method } from "../registry.ts";
import type { Address } from "../types.ts";

/** geth's maxGetStorageSlots. */
export const MAX_STORAGE_SLOTS = 1024;

type SlotRequest = Map<Address, Hex[]>;

const slotRequest: Parser<SlotRequest> = (v) => {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw new ParamError(
      "json: cannot unmarshal non-object into Go value of type map[common.Address][]common.Hash",
    );
  const out: SlotRequest = new Map();
  let total = 0;
  for (const [k, slots] of Object.entries(v as Record<string, unknown>)) {
    const a = address(k);
    if (!Array.isArray(slots))
      throw new ParamError("json: cannot unmarshal non-array into Go value of type []common.Hash");
    // Count before parsing: a hostile request is refused without decoding its bulk.
    total += slots.length - (out.get(a)?.length ?? 0);
    if (total > MAX_STORAGE_SLOTS) throw new ParamError(`too many slots (max ${MAX_STORAGE_SLOTS})`);
    out.set(
      a,
      slots.map((s) => storageKey(s).slot),
    );
  }
  return out;
};

export function storageValuesMethods(svc: Services): Record<string, MethodDef> {
  const { chain } = svc;
  return {
    eth_getStorageValues: method([required(slotRequest), optional(blockRef, LATEST)], async ([req, ref]) => {
      if (req.size === 0) throw new RpcError(RpcErrorCode.InvalidParams, "empty request");
      const n = await stateBlock(chain, ref ?? LATEST);
      const out: Record<string, Hex[]> = {};
      for (const [a, slots] of req) {
        const values: Hex[] = [];
        for (const s of slots) values.push(await chain.getStorageAt(a, s, n));
        out[a] = values;
      }
      return out;
    }),
  };
}
