import { type Logger, TimeoutError, withTimeout } from "@dseq/common";
import { LockingPoolArtifact } from "@dseq/l1-contracts";
import {
  type Address,
  createPublicClient,
  type Hex,
  http,
  numberToHex,
  type PublicClient,
  type Transport,
  webSocket,
} from "viem";
import { L1ErrorKind, L1ListenerError, L1ListenerErrorCode } from "./errors.ts";
import { listenerEventAbi } from "./listenerAbi.ts";
import type { DecodedL1Log, L1BlockHeader } from "./types.ts";

export type L1ClientOptions = {
  /** JSON-RPC endpoints, tried in order: `http(s)://` or `ws(s)://`. */
  endpoints: readonly string[];
  /** Every request gives up after this long (default 5 s). */
  requestTimeoutMs: number;
  /** Rounds over all endpoints before a call fails (default 3). */
  attempts: number;
  /** Backoff between rounds: base doubled per round, capped (defaults 250 ms, 5 s). */
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
};

export const defaultL1ClientOptions = {
  requestTimeoutMs: 5_000,
  attempts: 3,
  retryBaseDelayMs: 250,
  retryMaxDelayMs: 5_000,
} as const satisfies Partial<L1ClientOptions>;

export type L1ClientModules = {
  logger?: Logger;
  /** Called once per failed request with its kind (for `dseq_l1_errors_total`). */
  onError?: (kind: (typeof L1ErrorKind)[keyof typeof L1ErrorKind], endpoint: string) => void;
};

/** One endpoint; every call has the client's timeout. */
export type L1Endpoint = {
  readonly url: string;
  readonly index: number;
  blockNumber(signal?: AbortSignal): Promise<bigint>;
  /** The header at `number`; undefined when the endpoint has no such block. */
  header(number: bigint, signal?: AbortSignal): Promise<L1BlockHeader | undefined>;
  /** Decoded listener logs of `addresses` in `from..to`. */
  getLogs(
    addresses: readonly Address[],
    from: bigint,
    to: bigint,
    signal?: AbortSignal,
  ): Promise<DecodedL1Log[]>;
  /**
   * The locked amount of every LockingPool sequencer (ids 1..sequencerCount) as of `block`:
   * what a listener starting after the genesis stake needs to turn `LockUpdate`'s absolute
   * amounts into deltas. More than `maxSequencers` is refused (hostile or wrong contract).
   */
  lockedAmountsAt(
    lockingPool: Address,
    block: bigint,
    maxSequencers: number,
    signal?: AbortSignal,
  ): Promise<Map<bigint, bigint>>;
};

export type L1Client = {
  readonly endpoints: readonly L1Endpoint[];
  /** The endpoint tried first. */
  readonly preferred: L1Endpoint;
  /**
   * Runs `fn` against one endpoint (all its calls on that endpoint, so one answer comes from one
   * node's view). If it throws, the next endpoint becomes preferred and runs it; after a round
   * over all endpoints, waits (exponential backoff) and goes again, `attempts` rounds in all.
   */
  withEndpoint<T>(what: string, fn: (ep: L1Endpoint) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Makes the next endpoint preferred: `ep` answered something inconsistent. */
  demote(ep: L1Endpoint, reason: string): void;
  close(): Promise<void>;
};

type RpcBlock = { number: Hex; hash: Hex; parentHash: Hex } | null;

export function createL1Client(opts: L1ClientOptions, modules: L1ClientModules = {}): L1Client {
  if (opts.endpoints.length === 0) {
    throw new L1ListenerError(L1ListenerErrorCode.InvalidOptions, "at least one L1 endpoint is needed");
  }
  const log = modules.logger;
  const clients: PublicClient[] = [];
  const endpoints: L1Endpoint[] = opts.endpoints.map((url, index) => {
    const transport: Transport = /^wss?:\/\//.test(url)
      ? webSocket(url, { timeout: opts.requestTimeoutMs, retryCount: 0, keepAlive: false })
      : http(url, { timeout: opts.requestTimeoutMs, retryCount: 0 });
    const client = createPublicClient({ transport, cacheTime: 0, pollingInterval: 1_000 }) as PublicClient;
    clients.push(client);
    const timed = <T>(what: string, p: Promise<T>, signal?: AbortSignal): Promise<T> =>
      withTimeout(p, opts.requestTimeoutMs, `${what} on ${url}`, signal);
    return {
      url,
      index,
      async blockNumber(signal) {
        return BigInt(await timed("eth_blockNumber", client.request({ method: "eth_blockNumber" }), signal));
      },
      async header(number, signal) {
        const b = (await timed(
          "eth_getBlockByNumber",
          client.request({ method: "eth_getBlockByNumber", params: [numberToHex(number), false] }),
          signal,
        )) as RpcBlock;
        if (!b) return undefined;
        const got = BigInt(b.number);
        if (got !== number) {
          throw new L1ListenerError(L1ListenerErrorCode.InconsistentData, "block of another number", {
            details: { asked: number, got, url },
          });
        }
        return { number: got, hash: b.hash, parentHash: b.parentHash };
      },
      async getLogs(addresses, from, to, signal) {
        const logs = await timed(
          "eth_getLogs",
          client.getLogs({
            address: [...addresses],
            events: listenerEventAbi,
            fromBlock: from,
            toBlock: to,
            strict: true,
          }),
          signal,
        );
        return logs as unknown as DecodedL1Log[];
      },
      async lockedAmountsAt(lockingPool, block, maxSequencers, signal) {
        const read = (functionName: "sequencerCount" | "getSequencer", args: readonly unknown[]) =>
          timed(
            `LockingPool.${functionName}`,
            client.readContract({
              address: lockingPool,
              abi: LockingPoolArtifact.abi,
              functionName,
              args,
              blockNumber: block,
            } as never) as Promise<unknown>,
            signal,
          );
        const count = (await read("sequencerCount", [])) as bigint;
        if (typeof count !== "bigint" || count < 0n || count > BigInt(maxSequencers)) {
          throw new L1ListenerError(
            L1ListenerErrorCode.InconsistentData,
            "implausible LockingPool.sequencerCount",
            {
              details: { count: String(count), maxSequencers, block, url },
            },
          );
        }
        const out = new Map<bigint, bigint>();
        for (let id = 1n; id <= count; id++) {
          const seq = (await read("getSequencer", [id])) as { amount?: unknown };
          if (typeof seq?.amount !== "bigint") {
            throw new L1ListenerError(
              L1ListenerErrorCode.InconsistentData,
              "LockingPool.getSequencer without an amount",
              {
                details: { id, block, url },
              },
            );
          }
          out.set(id, seq.amount);
        }
        return out;
      },
    };
  });
  let preferred = 0;
  const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(done, ms);
      function done(): void {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }
      function onAbort(): void {
        clearTimeout(t);
        reject(signal?.reason);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
    });

  const client: L1Client = {
    endpoints,
    get preferred() {
      return endpoints[preferred] as L1Endpoint;
    },
    async withEndpoint(what, fn, signal) {
      let last: unknown;
      for (let round = 0; round < opts.attempts; round++) {
        if (round > 0) {
          const delay = Math.min(opts.retryMaxDelayMs, opts.retryBaseDelayMs * 2 ** (round - 1));
          await sleep(delay * (0.75 + Math.random() / 2), signal);
        }
        for (let tried = 0; tried < endpoints.length; tried++) {
          if (signal?.aborted) throw signal.reason;
          const ep = endpoints[preferred] as L1Endpoint;
          try {
            return await fn(ep);
          } catch (err) {
            if (signal?.aborted) throw signal.reason;
            if (!isRetryable(err)) throw err;
            last = err;
            const kind = errorKindOf(err);
            modules.onError?.(kind, ep.url);
            log?.warn("L1 request failed", { what, endpoint: ep.url, kind, error: String(err) });
            // `demote` may have moved on already; move only from the endpoint that failed.
            if (preferred === ep.index) preferred = (preferred + 1) % endpoints.length;
          }
        }
      }
      throw new L1ListenerError(L1ListenerErrorCode.Unavailable, `${what}: every L1 endpoint failed`, {
        cause: last,
        details: { what, endpoints: endpoints.length, attempts: opts.attempts },
      });
    },
    demote(ep, reason) {
      log?.warn("L1 endpoint demoted", { endpoint: ep.url, reason });
      if (endpoints[preferred] === ep) preferred = (preferred + 1) % endpoints.length;
    },
    async close() {
      for (const c of clients) {
        const t = c.transport as { type?: string; getRpcClient?: () => Promise<{ close(): void }> };
        if (t.type === "webSocket" && t.getRpcClient) {
          try {
            (await t.getRpcClient()).close();
          } catch {
            // a socket that never opened has nothing to close
          }
        }
      }
    },
  };
  return client;
}

/** Failures that another endpoint or a later try may not have; listener invariants are not. */
function isRetryable(err: unknown): boolean {
  if (err instanceof L1ListenerError) {
    return err.code === L1ListenerErrorCode.InconsistentData || err.code === L1ListenerErrorCode.Unavailable;
  }
  return true;
}

export function errorKindOf(err: unknown): (typeof L1ErrorKind)[keyof typeof L1ErrorKind] {
  if (err instanceof TimeoutError) return L1ErrorKind.Timeout;
  if (err instanceof L1ListenerError && err.code === L1ListenerErrorCode.InconsistentData) {
    return L1ErrorKind.InconsistentData;
  }
  const name = (err as { name?: string })?.name ?? "";
  if (name === "TimeoutError" || /Timeout/.test(name)) return L1ErrorKind.Timeout;
  return L1ErrorKind.Rpc;
}
