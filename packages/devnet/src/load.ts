import { bytesToHex, errorMessage, type Hex, hexToBytes } from "@dseq/common";
import { keccak256, secp256k1 } from "@dseq/crypto";
import { serializeTransaction, type TransactionSerializableEIP1559, type Hex as ViemHex } from "viem";
import { DevnetError, DevnetErrorCode } from "./errors.ts";
import { blockNumber, getBlock, rpcBatch } from "./jsonRpc.ts";

export type LoadOptions = {
  /** Nodes to send to, round-robin. */
  rpcUrls: string[];
  /** Funded senders; each keeps its own nonce sequence (tracked locally). */
  accounts: { address: Hex; privateKey: Hex }[];
  chainId: number;
  tps: number;
  durationMs: number;
  /** After the last send, wait up to this long for every accepted tx to be included. */
  drainMs?: number;
  /** Where blocks are watched for inclusions (default: rpcUrls; the first that answers). */
  watchUrls?: string[];
  /** Block poll period; confirmation latency is seen with up to this much delay. */
  pollMs?: number;
  /**
   * A node's WebSocket URL: new heads come by `eth_subscribe("newHeads")`, and a transaction
   * counts as confirmed when the notification of its block arrives (what a wallet or indexer
   * subscribed to the node sees), not at the next poll. Polling stays as the fallback.
   */
  headsWsUrl?: string;
  /**
   * A node's WebSocket URL for `eth_subscribe("preconfirmations")` (ADR 0170): a transaction's
   * preconfirmation latency is send time to the arrival of the first message carrying it.
   */
  preconfWsUrl?: string;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  /** Stops sending early (the drain still runs, so the report stays exact). */
  signal?: AbortSignal;
  /** Called about once a second while sending. */
  onProgress?: (p: LoadProgress) => void;
  /** Awaited once after the last send, before the drain (benchmarks sample the pools here). */
  beforeDrain?: () => Promise<void>;
};

export type LoadProgress = { elapsedMs: number; sent: number; accepted: number; committed: number };

export type LoadReport = {
  tps: number;
  durationMs: number;
  /** Time spent signing every transaction before the clock started. */
  signMs: number;
  sent: number;
  accepted: number;
  rejected: number;
  committed: number;
  /** Committed transactions per second over the sending window plus the time to drain. */
  committedTps: number;
  /** Accepted by a node but not seen in a block by the end of the drain window. */
  notCommitted: Hex[];
  confirmP50Ms: number;
  confirmP99Ms: number;
  confirmMaxMs: number;
  /** Transactions seen in a preconfirmation (only with `preconfWsUrl`). */
  preconfirmed: number;
  /** Preconfirmed and then committed (with `preconfWsUrl`). */
  preconfirmedCommitted: number;
  preconfP50Ms: number;
  preconfP99Ms: number;
  /** The preconfirmation WebSocket closed during the run (what came after it counts as missing). */
  preconfStreamLost: boolean;
  /** Rejections by message (the node's error strings). */
  errors: Record<string, number>;
  fromBlock: number;
  toBlock: number;
};

export type SignedTx = { raw: Hex; hash: Hex };

/** The value at quantile q (0..1) of an ascending array (nearest rank). */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx] as number;
}

const GWEI = 1_000_000_000n;
const MAX_BATCH = 100;
const TICK_MS = 20;

async function pendingNonces(url: string, addresses: Hex[]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < addresses.length; i += MAX_BATCH) {
    const chunk = addresses.slice(i, i + MAX_BATCH);
    const res = await rpcBatch(
      url,
      chunk.map((a) => ({ method: "eth_getTransactionCount", params: [a, "pending"] })),
    );
    for (const [j, r] of res.entries()) {
      if (r.error) {
        throw new DevnetError(
          DevnetErrorCode.LoadNonce,
          `eth_getTransactionCount(${chunk[j]}): ${r.error.message}`,
        );
      }
      out.push(Number(r.result));
    }
  }
  return out;
}

/**
 * Signs `count` EIP-1559 transfers round-robin over the accounts with locally tracked nonces.
 * viem serializes; the signature comes from @dseq/crypto (libsecp256k1 when its binding loads),
 * about 20x the rate of pure-JS signing, which a load generator sharing 2 cores with the nodes
 * needs.
 */
export function signTransfers(
  opts: Pick<LoadOptions, "accounts" | "chainId" | "maxFeePerGas" | "maxPriorityFeePerGas">,
  nonces: number[],
  count: number,
): SignedTx[] {
  const keys = opts.accounts.map((a) => hexToBytes(a.privateKey));
  const next = [...nonces];
  const out: SignedTx[] = [];
  const n = keys.length;
  for (let i = 0; i < count; i++) {
    const k = i % n;
    const nonce = next[k] as number;
    next[k] = nonce + 1;
    const tx: TransactionSerializableEIP1559 = {
      type: "eip1559",
      chainId: opts.chainId,
      nonce,
      to: (opts.accounts[(k + 1) % n] as { address: Hex }).address,
      value: 1n,
      gas: 21_000n,
      maxFeePerGas: opts.maxFeePerGas ?? 1000n * GWEI,
      maxPriorityFeePerGas: opts.maxPriorityFeePerGas ?? GWEI,
    };
    out.push(signEip1559(tx, keys[k] as Uint8Array));
  }
  return out;
}

/** Signs one EIP-1559 transaction with @noble (see `signTransfers`). */
export function signEip1559(tx: TransactionSerializableEIP1559, key: Uint8Array): SignedTx {
  const digest = keccak256(hexToBytes(serializeTransaction(tx) as Hex));
  const { signature, recovery } = secp256k1.sign(digest, key);
  const raw = serializeTransaction(tx, {
    r: bytesToHex(signature.subarray(0, 32)) as ViemHex,
    s: bytesToHex(signature.subarray(32, 64)) as ViemHex,
    yParity: recovery,
  }) as Hex;
  return { raw, hash: bytesToHex(keccak256(hexToBytes(raw))) };
}

/**
 * A steady stream of signed transfers. Every transaction is signed before the clock starts
 * (signing is CPU the nodes need too), then sent in JSON-RPC batches every 20 ms at the
 * requested rate, round-robin over `rpcUrls`. Blocks are polled to see each inclusion; the
 * confirmation latency of a transaction is send time to the poll that saw its block.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadReport> {
  if (opts.rpcUrls.length === 0) throw new DevnetError(DevnetErrorCode.LoadNoRpc, "no RPC URL to send to");
  if (opts.accounts.length === 0) throw new DevnetError(DevnetErrorCode.LoadNoAccounts, "no funded accounts");
  const watchUrls = opts.watchUrls ?? opts.rpcUrls;
  const pollMs = opts.pollMs ?? 25;
  const drainMs = opts.drainMs ?? 15_000;
  const total = Math.max(1, Math.round((opts.tps * opts.durationMs) / 1000));

  const nonces = await pendingNonces(
    opts.rpcUrls[0] as string,
    opts.accounts.map((a) => a.address),
  );
  const signStart = performance.now();
  const txs = signTransfers(opts, nonces, total);
  const signMs = performance.now() - signStart;

  const sentAt = new Map<Hex, number>();
  const accepted = new Set<Hex>();
  const latencies: number[] = [];
  const committedSet = new Set<Hex>();
  const errors: Record<string, number> = {};
  let rejected = 0;

  // --- inclusion watcher
  let watchIdx = 0;
  let fromBlock = -1;
  let seenHeight = -1;
  for (let i = 0; fromBlock < 0; i++) {
    try {
      fromBlock = await blockNumber(watchUrls[watchIdx] as string);
    } catch (err) {
      watchIdx = (watchIdx + 1) % watchUrls.length;
      if (i >= watchUrls.length * 3)
        throw new DevnetError(DevnetErrorCode.LoadNoRpc, `no RPC answers: ${errorMessage(err)}`);
    }
  }
  seenHeight = fromBlock;
  let watching = true;
  // Block number -> when its newHeads notification arrived.
  const announced = new Map<number, number>();
  const heads = opts.headsWsUrl
    ? subscribeHeads(opts.headsWsUrl, (n, at) => announced.set(n, at))
    : undefined;
  const preconfAt = new Map<Hex, number>();
  const preconfLatencies: number[] = [];
  const preconfs = opts.preconfWsUrl
    ? subscribePreconfirmations(opts.preconfWsUrl, (hashes, at) => {
        for (const h of hashes) {
          const t = sentAt.get(h);
          if (t === undefined || preconfAt.has(h)) continue;
          preconfAt.set(h, at);
          preconfLatencies.push(at - t);
        }
      })
    : undefined;
  // The load starts once the node confirmed the subscriptions: a transaction sent before would
  // have its preconfirmation (or head) counted as missing though the node sent it.
  if (preconfs && !(await preconfs.ready)) {
    heads?.close();
    preconfs.close();
    throw new DevnetError(
      DevnetErrorCode.LoadNoRpc,
      `eth_subscribe("preconfirmations") failed on ${opts.preconfWsUrl}`,
    );
  }
  await heads?.ready; // without it, a commit's time is when the poller saw the block
  const watcher = (async () => {
    while (watching) {
      const url = watchUrls[watchIdx] as string;
      try {
        const head = await blockNumber(url, 2000);
        while (seenHeight < head) {
          const block = await getBlock(url, seenHeight + 1, 5000);
          if (!block) break;
          const now = announced.get(seenHeight + 1) ?? performance.now();
          announced.delete(seenHeight + 1);
          for (const h of block.transactions as Hex[]) {
            const t = sentAt.get(h);
            if (t !== undefined && !committedSet.has(h)) {
              committedSet.add(h);
              latencies.push(now - t);
            }
          }
          seenHeight++;
        }
      } catch {
        watchIdx = (watchIdx + 1) % watchUrls.length; // that node is down: watch another
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  })();

  // --- sender
  const inflight = new Set<Promise<void>>();
  const sendBatch = async (urlIdx: number, batch: SignedTx[], attempt = 0): Promise<void> => {
    const url = opts.rpcUrls[urlIdx % opts.rpcUrls.length] as string;
    let res: Awaited<ReturnType<typeof rpcBatch>>;
    try {
      res = await rpcBatch(
        url,
        batch.map((t) => ({ method: "eth_sendRawTransaction", params: [t.raw] })),
      );
    } catch (err) {
      if (attempt + 1 < opts.rpcUrls.length) return sendBatch(urlIdx + 1, batch, attempt + 1);
      const msg = `transport: ${errorMessage(err)}`;
      errors[msg] = (errors[msg] ?? 0) + batch.length;
      rejected += batch.length;
      return;
    }
    for (const [i, r] of res.entries()) {
      const tx = batch[i] as SignedTx;
      if (r.error === undefined) accepted.add(tx.hash);
      else if (/already known/i.test(r.error.message)) accepted.add(tx.hash);
      else {
        rejected++;
        errors[r.error.message] = (errors[r.error.message] ?? 0) + 1;
      }
    }
  };

  const start = performance.now();
  let sent = 0;
  let rr = 0;
  let lastProgress = start;
  while (sent < total && !opts.signal?.aborted) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) * opts.tps) / 1000) + 1);
    if (due > sent) {
      const perUrl = new Map<number, SignedTx[]>();
      for (; sent < due; sent++) {
        const tx = txs[sent] as SignedTx;
        const u = rr++ % opts.rpcUrls.length;
        const list = perUrl.get(u) ?? [];
        list.push(tx);
        perUrl.set(u, list);
        sentAt.set(tx.hash, performance.now());
      }
      for (const [u, list] of perUrl) {
        for (let i = 0; i < list.length; i += MAX_BATCH) {
          const p = sendBatch(u, list.slice(i, i + MAX_BATCH)).finally(() => inflight.delete(p));
          inflight.add(p);
        }
      }
    }
    if (opts.onProgress && now - lastProgress >= 1000) {
      lastProgress = now;
      opts.onProgress({
        elapsedMs: now - start,
        sent,
        accepted: accepted.size,
        committed: committedSet.size,
      });
    }
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  const sendEnd = performance.now();
  await Promise.all(inflight);
  await opts.beforeDrain?.();

  const drainDeadline = performance.now() + drainMs;
  while (performance.now() < drainDeadline) {
    let open = 0;
    for (const h of accepted) if (!committedSet.has(h)) open++;
    if (open === 0) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  watching = false;
  await watcher;
  const preconfStreamLost = preconfs?.lost() ?? false;
  heads?.close();
  preconfs?.close();
  const end = performance.now();

  latencies.sort((a, b) => a - b);
  preconfLatencies.sort((a, b) => a - b);
  let preconfirmedCommitted = 0;
  for (const h of preconfAt.keys()) if (committedSet.has(h)) preconfirmedCommitted++;
  const notCommitted = [...accepted].filter((h) => !committedSet.has(h));
  return {
    tps: opts.tps,
    durationMs: sendEnd - start,
    signMs,
    sent,
    accepted: accepted.size,
    rejected,
    committed: committedSet.size,
    committedTps: committedSet.size / ((end - start) / 1000),
    notCommitted,
    confirmP50Ms: quantile(latencies, 0.5),
    confirmP99Ms: quantile(latencies, 0.99),
    confirmMaxMs: latencies.length > 0 ? (latencies[latencies.length - 1] as number) : Number.NaN,
    preconfirmed: preconfAt.size,
    preconfirmedCommitted,
    preconfP50Ms: quantile(preconfLatencies, 0.5),
    preconfP99Ms: quantile(preconfLatencies, 0.99),
    preconfStreamLost,
    errors,
    fromBlock,
    toBlock: seenHeight,
  };
}

/**
 * A WebSocket subscription: `ready` says whether the node confirmed it (false on an error, a
 * refusal or no answer within 10 s); `lost()` whether the socket closed before `close()`.
 */
export type WsSubscription = { ready: Promise<boolean>; lost(): boolean; close(): void };

/** `eth_subscribe(...params)` over a WebSocket; calls `onResult` with each notification's result. */
export function subscribeWs(
  url: string,
  params: unknown[],
  onResult: (result: unknown, at: number) => void,
): WsSubscription {
  let ws: WebSocket;
  try {
    ws = new WebSocket(url);
  } catch {
    return { ready: Promise.resolve(false), lost: () => true, close() {} };
  }
  let closing = false;
  let lost = false;
  let settle: (ok: boolean) => void = () => {};
  const ready = new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), 10_000);
    settle = (ok) => {
      clearTimeout(t);
      resolve(ok);
    };
  });
  ws.addEventListener("open", () => {
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params }));
  });
  ws.addEventListener("message", (ev) => {
    const at = performance.now();
    try {
      const msg = JSON.parse(String(ev.data)) as {
        id?: number;
        result?: unknown;
        method?: string;
        params?: { result?: unknown };
      };
      if (msg.method === "eth_subscription") onResult(msg.params?.result, at);
      else if (msg.id === 1) settle(typeof msg.result === "string");
    } catch {
      // not a notification we understand
    }
  });
  // callers have a fallback (a poller) or go without; `ready` and `lost` tell them
  ws.addEventListener("error", () => settle(false));
  ws.addEventListener("close", () => {
    settle(false);
    if (!closing) lost = true;
  });
  return {
    ready,
    lost: () => lost,
    close: () => {
      closing = true;
      ws.close();
    },
  };
}

/** `eth_subscribe("newHeads")` over a WebSocket; calls `onHead` with each head's number. */
function subscribeHeads(url: string, onHead: (n: number, at: number) => void): WsSubscription {
  return subscribeWs(url, ["newHeads"], (r, at) => {
    const n = (r as { number?: string } | null)?.number;
    if (n !== undefined) onHead(Number(n), at);
  });
}

/** The hashes of the raw transactions a preconfirmation message carries (keccak256 of each). */
export function preconfTxHashes(result: unknown): Hex[] {
  const txs = (result as { transactions?: unknown } | null)?.transactions;
  if (!Array.isArray(txs)) return [];
  const out: Hex[] = [];
  for (const t of txs) {
    if (typeof t !== "string" || !/^0x([0-9a-fA-F]{2})+$/.test(t)) continue;
    out.push(bytesToHex(keccak256(hexToBytes(t as Hex))));
  }
  return out;
}

/** `eth_subscribe("preconfirmations")`; calls `onTxs` with the hashes each message carries. */
export function subscribePreconfirmations(
  url: string,
  onTxs: (hashes: Hex[], at: number) => void,
): WsSubscription {
  return subscribeWs(url, ["preconfirmations"], (r, at) => onTxs(preconfTxHashes(r), at));
}

/** `eth_subscribe("newPendingTransactions")`: each hash as the node's pool admits it. */
export function subscribePendingTxs(url: string, onTx: (hash: Hex, at: number) => void): WsSubscription {
  return subscribeWs(url, ["newPendingTransactions"], (r, at) => {
    if (typeof r === "string" && /^0x[0-9a-fA-F]{64}$/.test(r)) onTx(r.toLowerCase() as Hex, at);
  });
}

/** The load report's preconfirmation line ("-" when the run had no preconfirmation stream). */
export function preconfLine(
  r: Pick<LoadReport, "preconfirmed" | "preconfirmedCommitted" | "preconfP50Ms" | "preconfP99Ms">,
): string {
  if (r.preconfirmed === 0) return "preconf    -";
  const ms = (v: number): string => (Number.isFinite(v) ? `${Math.round(v)} ms` : "-");
  return `preconf    p50 ${ms(r.preconfP50Ms)}  p99 ${ms(r.preconfP99Ms)}  ${r.preconfirmed} preconfirmed, ${r.preconfirmedCommitted} of them committed`;
}
