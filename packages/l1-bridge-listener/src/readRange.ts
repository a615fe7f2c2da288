import type { Address } from "viem";
import type { RangeRead } from "./applyRange.ts";
import { L1ListenerError, L1ListenerErrorCode } from "./errors.ts";
import type { L1Endpoint } from "./l1Client.ts";
import type { L1BlockHeader } from "./types.ts";

export type ReadRangeArgs = {
  readonly from: bigint;
  readonly to: bigint;
  readonly addresses: readonly Address[];
  /** Header requests in flight at once (default 16). */
  readonly headerConcurrency?: number;
  readonly signal?: AbortSignal;
};

/**
 * Reads blocks `from..to` from one endpoint: the header of `to`, the logs, the headers of `from`
 * and of every block a log names, then `to` again. If `to` changed meanwhile the chain moved
 * under the read, and nothing of it is used.
 */
export async function readRange(ep: L1Endpoint, args: ReadRangeArgs): Promise<RangeRead> {
  const { from, to, signal } = args;
  const top = await mustHeader(ep, to, signal);
  const logs = await ep.getLogs(args.addresses, from, to, signal);
  const numbers = [...new Set([from, ...logs.map((l) => l.blockNumber)])].filter((n) => n !== to);
  const headers: L1BlockHeader[] = [top];
  const concurrency = Math.max(1, args.headerConcurrency ?? 16);
  for (let i = 0; i < numbers.length; i += concurrency) {
    const part = numbers.slice(i, i + concurrency);
    headers.push(...(await Promise.all(part.map((n) => mustHeader(ep, n, signal)))));
  }
  const again = await mustHeader(ep, to, signal);
  if (again.hash !== top.hash) {
    throw new L1ListenerError(L1ListenerErrorCode.InconsistentData, "the chain moved during a range read", {
      details: { to, before: top.hash, after: again.hash, endpoint: ep.url },
    });
  }
  return { from, to, headers, logs };
}

async function mustHeader(ep: L1Endpoint, n: bigint, signal?: AbortSignal): Promise<L1BlockHeader> {
  const h = await ep.header(n, signal);
  if (!h) {
    throw new L1ListenerError(L1ListenerErrorCode.InconsistentData, "endpoint has no block it should have", {
      details: { number: n, endpoint: ep.url },
    });
  }
  return h;
}
