/**
 * eth_config (EIP-7910): the fork in force, the next and the last scheduled one, with their
 * fork id, blob schedule, precompiles and system contracts; and eth_baseFee, the base fee of
 * the next block (what a transaction sent now pays at least).
 */
import { bigintToHex } from "@dseq/common";
import { headerNotFound, type Services } from "../context.ts";
import type { JsonObject } from "../format.ts";
import { type MethodDef, method } from "../registry.ts";
import type { ForkConfigData } from "../types.ts";
import { nextBaseFee } from "./fees.ts";

export function formatForkConfig(f: ForkConfigData | undefined): JsonObject | null {
  if (f === undefined) return null;
  const out: JsonObject = { activationTime: f.activationTime };
  if (f.blobSchedule !== undefined) {
    const b = f.blobSchedule;
    out.blobSchedule = {
      target: b.target,
      max: b.max,
      baseFeeUpdateFraction: Number(b.baseFeeUpdateFraction),
    };
  }
  out.chainId = bigintToHex(f.chainId);
  out.forkId = f.forkId;
  out.precompiles = { ...f.precompiles };
  out.systemContracts = { ...f.systemContracts };
  return out;
}

export function configMethods(svc: Services): Record<string, MethodDef> {
  const { chain } = svc;
  const defs: Record<string, MethodDef> = {
    eth_baseFee: method([], async () => {
      const head = await chain.getHeader(chain.heads().latest);
      if (head === undefined) throw headerNotFound();
      return bigintToHex(nextBaseFee(head));
    }),
  };
  const forkConfig = chain.forkConfig;
  if (forkConfig !== undefined) {
    defs.eth_config = method([], async () => {
      const c = await forkConfig.call(chain);
      return {
        current: formatForkConfig(c.current),
        next: formatForkConfig(c.next),
        last: formatForkConfig(c.last),
      };
    });
  }
  return defs;
}
