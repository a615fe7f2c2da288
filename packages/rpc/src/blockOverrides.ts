/** geth's `override.BlockOverrides` parameter (eth_call, eth_estimateGas), decoded strictly. */
import { address, hash, ParamError, type Parser, quantity, uint64 } from "./params.ts";
import type { BlockOverridesData } from "./types.ts";

const FIELDS: Record<string, (v: unknown, out: BlockOverridesData) => void> = {
  number: (v, o) => {
    o.number = quantity(v);
  },
  time: (v, o) => {
    o.time = uint64(v);
  },
  gasLimit: (v, o) => {
    o.gasLimit = uint64(v);
  },
  feeRecipient: (v, o) => {
    o.feeRecipient = address(v);
  },
  prevRandao: (v, o) => {
    o.prevRandao = hash(v);
  },
  baseFeePerGas: (v, o) => {
    o.baseFeePerGas = quantity(v);
  },
};

/**
 * Unknown fields are refused rather than ignored, so a caller never believes an override
 * applied when it did not (`difficulty`, `random` and `blobBaseFee` are not supported here).
 */
export const blockOverrides: Parser<BlockOverridesData> = (v) => {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new ParamError("json: cannot unmarshal non-object into Go value of type override.BlockOverrides");
  }
  const out: BlockOverridesData = {};
  for (const [k, raw] of Object.entries(v as Record<string, unknown>)) {
    const set = FIELDS[k];
    if (set === undefined) throw new ParamError(`unsupported block override ${JSON.stringify(k)}`);
    if (raw === null || raw === undefined) continue;
    set(raw, out);
  }
  return out;
};
