import type { Address } from "viem";
import { type ApplyRangeResult, applyRange } from "./applyRange.ts";
import { L1ListenerError, L1ListenerErrorCode } from "./errors.ts";
import type { L1Client } from "./l1Client.ts";
import { cursorOf, type ListenerState } from "./listenerState.ts";
import { readRange } from "./readRange.ts";
import type { L1ListenerContracts } from "./types.ts";

export type ReadNextRangeContext = {
  readonly client: L1Client;
  readonly contracts: L1ListenerContracts;
  readonly confirmations: number;
  readonly maxBlockRange: bigint;
  readonly maxReorgDepth: bigint;
  readonly headerConcurrency: number;
};

export type ReadNextRangeResult =
  | Extract<ApplyRangeResult, { kind: "applied" | "parentMismatch" }>
  /** The endpoint that served the read has not reached the next block's confirmations yet. */
  | { readonly kind: "behind" };

/**
 * Reads the range after the cursor, up to `target` and `maxBlockRange`, on one endpoint and
 * applies it. An inconsistent answer demotes that endpoint and is retried on the next one (the
 * client's failover); whatever the result, the state passed in is not modified.
 */
export async function readNextRange(
  ctx: ReadNextRangeContext,
  args: { state: ListenerState; target: bigint; signal?: AbortSignal },
): Promise<ReadNextRangeResult> {
  const cursor = cursorOf(args.state);
  const from = cursor.number + 1n;
  const span = args.target - cursor.number;
  const planned = span > ctx.maxBlockRange ? cursor.number + ctx.maxBlockRange : args.target;
  const addresses: Address[] = [
    ctx.contracts.lockingPool,
    ctx.contracts.depositBridge,
    ctx.contracts.batchInbox,
  ];
  const signal = args.signal;
  return ctx.client.withEndpoint(
    "range read",
    async (ep) => {
      // The endpoint that serves the read bounds it by its own head: a head from another
      // endpoint (or a lie about it) never makes this one look inconsistent.
      const own = (await ep.blockNumber(signal)) - BigInt(ctx.confirmations);
      const to = own < planned ? own : planned;
      if (to < from) return { kind: "behind" as const };
      const read = await readRange(ep, {
        from,
        to,
        addresses,
        headerConcurrency: ctx.headerConcurrency,
        signal,
      });
      const r = applyRange(args.state, read, { contracts: ctx.contracts, maxReorgDepth: ctx.maxReorgDepth });
      if (r.kind === "inconsistent") {
        ctx.client.demote(ep, r.reason);
        throw new L1ListenerError(L1ListenerErrorCode.InconsistentData, r.reason, {
          details: { ...r.details, endpoint: ep.url },
        });
      }
      return r;
    },
    signal,
  );
}
