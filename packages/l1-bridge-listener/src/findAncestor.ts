import type { L1Client } from "./l1Client.ts";
import type { ListenerState } from "./listenerState.ts";
import { walkBackCandidates } from "./rewind.ts";

/**
 * The newest remembered block still on the canonical chain, or undefined when none is (a reorg
 * deeper than the listener remembers). One endpoint answers the whole walk, so the ancestor
 * comes from one node's view.
 */
export function findAncestor(
  ctx: { readonly client: L1Client },
  state: ListenerState,
  signal?: AbortSignal,
): Promise<bigint | undefined> {
  return ctx.client.withEndpoint(
    "walk back",
    async (ep) => {
      for (const candidate of walkBackCandidates(state)) {
        // Below block 0 there is nothing to disagree about.
        if (candidate.number < 0n) return candidate.number;
        const h = await ep.header(candidate.number, signal);
        if (h && h.hash === candidate.hash) return candidate.number;
      }
      return undefined;
    },
    signal,
  );
}
