/**
 * eth_capabilities (execution-apis): which data this node still serves and from which block.
 * A dseq node keeps every block, receipt, log and state root from `earliest()` on (no pruning
 * window), so every section is enabled from there and logs are never deleted (ADR 0135).
 */
import { bigintToHex } from "@dseq/common";
import { headerNotFound, type Services } from "../context.ts";
import { type MethodDef, method } from "../registry.ts";

export function capabilitiesMethods(svc: Services): Record<string, MethodDef> {
  const { chain } = svc;
  return {
    eth_capabilities: method([], async () => {
      const latest = chain.heads().latest;
      const head = await chain.getHeader(latest);
      if (head === undefined) throw headerNotFound();
      const oldestBlock = bigintToHex(chain.earliest());
      const section = { disabled: false, oldestBlock };
      return {
        head: { number: bigintToHex(latest), hash: head.hash },
        state: section,
        tx: section,
        logs: { ...section, deleteStrategy: { type: "none" } },
        receipts: section,
        blocks: section,
        stateproofs: section,
      };
    }),
  };
}
