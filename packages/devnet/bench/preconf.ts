// Preconfirmation metrics on a running devnet (issue #19, ADRs 0170-0173): send -> preconfirmation
// over WebSocket at half load (p50, p99; a transaction never preconfirmed counts as the 10 s
// timeout), and the share of preconfirmed transactions that land with the receipt promised over
// `kills` kill -9 of the proposer right after it preconfirmed them. Used by devnet.bench.ts (same
// run) and by the standalone suite preconf.bench.ts.
import type { Hex } from "@dseq/common";
import type { Devnet } from "../src/devnet.ts";
import { blockNumber, getBlock, rpcCall } from "../src/jsonRpc.ts";
import { runLoad, type SignedTx, signTransfers } from "../src/load.ts";

type Node = Devnet["nodes"][number];
type Log = { address: string; topics: string[]; data: string; logIndex?: string };
/** The receipt fields a preconfirmation promises (ADR 0175) and the committed block must keep. */
const ZERO_HASH: Hex = `0x${"00".repeat(32)}`;

export type Receipt = {
  transactionHash: Hex;
  blockHash?: Hex | null;
  blockNumber?: string;
  transactionIndex?: string;
  status?: string;
  gasUsed?: string;
  cumulativeGasUsed?: string;
  logs?: Log[];
};
export type PreconfMessage = {
  proposer: Hex;
  blockNumber: string;
  index: string;
  receipts: Receipt[];
  transactions: Hex[];
};

const TIMEOUT_MS = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every `eth_subscribe("preconfirmations")` message of the node at `wsUrl`, as they come. */
export function listenPreconfirmations(
  wsUrl: string,
  onMessage: (m: PreconfMessage, at: number) => void,
): Promise<{ close(): void }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl);
    const t = setTimeout(() => reject(new Error(`no WebSocket on ${wsUrl}`)), 10_000);
    ws.addEventListener("open", () =>
      ws.send(
        JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["preconfirmations"] }),
      ),
    );
    ws.addEventListener("message", (ev) => {
      const msg = JSON.parse(String(ev.data)) as {
        id?: number;
        error?: { message: string };
        method?: string;
        params?: { result?: PreconfMessage };
      };
      if (msg.id === 1) {
        clearTimeout(t);
        if (msg.error) reject(new Error(`eth_subscribe("preconfirmations"): ${msg.error.message}`));
        else resolve({ close: () => ws.close() });
      } else if (msg.method === "eth_subscription" && msg.params?.result)
        onMessage(msg.params.result, performance.now());
    });
    ws.addEventListener("error", () => reject(new Error(`WebSocket error on ${wsUrl}`)));
  });
}

/** The promised fields the committed receipt does not keep (empty: kept as promised). */
export function receiptDifferences(promised: Receipt, committed: Receipt | null): string[] {
  if (committed === null) return ["not committed"];
  const fields = ["blockNumber", "transactionIndex", "status", "gasUsed", "cumulativeGasUsed"] as const;
  const out: string[] = fields.filter((f) => promised[f] !== committed[f]);
  const logs = (r: Receipt): string =>
    JSON.stringify(
      (r.logs ?? []).map((l) => [l.address.toLowerCase(), l.topics, l.data, l.logIndex ?? null]),
    );
  if (logs(promised) !== logs(committed)) out.push("logs");
  return out;
}

/**
 * `eth_getTransactionReceipt` until it is there (or `timeoutMs`): null when it never committed.
 * A preconfirmed receipt (zero block hash, ADR 0179; only on an endpoint that serves them
 * unasked) is not a commit.
 */
export async function committedReceipt(
  rpcUrl: string,
  hash: Hex,
  timeoutMs: number,
): Promise<Receipt | null> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const got = await rpcCall<Receipt | null>(rpcUrl, "eth_getTransactionReceipt", [hash]).catch(() => null);
    if (got !== null && got.blockNumber !== undefined && got.blockHash !== ZERO_HASH) return got;
    if (performance.now() >= until) return null;
    await sleep(100);
  }
}

/**
 * Waits until the head's timestamp is within 2 s of the clock. Genesis is stamped when the
 * network is generated: the first blocks catch up on the slots missed while the processes
 * started, back to back, and a proposer streams (preconfirms) only while its slot is ahead.
 */
export async function waitCaughtUp(rpcUrl: string, timeoutMs = 90_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const head = await getBlock(rpcUrl, "latest", 2000).catch(() => null);
    if (head !== null && Number(head.timestamp) >= Date.now() / 1000 - 2) return;
    if (performance.now() > until) throw new Error(`${rpcUrl}: the chain did not catch up with the clock`);
    await sleep(500);
  }
}

/** p50/p99 of send -> preconfirmation at `tps` for `durationMs`, through runLoad. */
export async function preconfLatency(
  d: Devnet,
  tps: number,
  durationMs: number,
): Promise<{ p50: number; p99: number; sent: number; preconfirmed: number; missing: number }> {
  const running = d.nodes.filter((n) => n.state === "running");
  const r = await runLoad({
    rpcUrls: running.map((n) => n.rpcUrl),
    accounts: d.loadAccounts,
    chainId: d.chainId,
    tps,
    durationMs,
    preconfWsUrl: (running[0] as Node).wsUrl,
    headsWsUrl: (running[0] as Node).wsUrl,
  });
  if (r.preconfStreamLost)
    console.log(`  the preconfirmation WebSocket of ${(running[0] as Node).name} closed during the run`);
  const missing = Math.max(0, r.accepted - r.preconfirmed);
  // Not preconfirmed counts as the timeout: with more than 1 % missing, p99 is the timeout.
  const share = r.accepted === 0 ? 1 : missing / r.accepted;
  return {
    p50: share > 0.5 || r.preconfirmed === 0 ? TIMEOUT_MS : r.preconfP50Ms,
    p99: share > 0.01 || r.preconfirmed === 0 ? TIMEOUT_MS : r.preconfP99Ms,
    sent: r.sent,
    preconfirmed: r.preconfirmed,
    missing,
  };
}

/**
 * Sends `txs` to the first running validator not in `spare`, one every 50 ms, while it listens to the preconfirmations every one of them publishes, until one of them (the observer)
 * publishes receipts of `txs` from a proposer that is neither itself nor in `spare`; that
 * proposer is killed (-9) at once. Listening on every candidate, not on one chosen beforehand,
 * means whichever of them holds the span is seen by another: a trial fails only while a spared
 * node holds it for the whole 20 s. Returns the victim (undefined when none preconfirmed within
 * the transactions or 20 s), the observer, and the receipts promised for `txs` before the kill.
 */
export async function killAfterPreconf(
  d: Devnet,
  txs: SignedTx[],
  spare: ReadonlySet<string> = new Set(),
): Promise<{ victim: Node | undefined; observer: Node; promised: Receipt[] }> {
  const candidates = d.nodes.filter((n) => n.state === "running" && !spare.has(n.name));
  if (candidates.length < 2)
    throw new Error("a preconfirmation kill needs two running validators not spared");
  const ours = new Set(txs.map((t) => t.hash));
  const promised = new Map<Hex, Receipt>();
  let victim: Node | undefined;
  let observer = candidates[0] as Node;
  let killed: Promise<void> | undefined;
  const subs = await Promise.all(
    candidates.map((listener) =>
      listenPreconfirmations(listener.wsUrl, (m) => {
        if (victim !== undefined) return;
        const who = d.nodes.find((n) => n.address === m.proposer.toLowerCase());
        if (!who || who === listener || spare.has(who.name) || who.state !== "running") return;
        const mine = m.receipts.filter((r) => ours.has(r.transactionHash));
        if (mine.length === 0) return;
        for (const r of mine) promised.set(r.transactionHash, r);
        victim = who;
        observer = listener;
        killed = who.kill();
      }),
    ),
  );
  try {
    const t0 = performance.now();
    const entry = candidates[0] as Node;
    for (const tx of txs) {
      if (victim || performance.now() - t0 > 20_000) break;
      await rpcCall(entry.rpcUrl, "eth_sendRawTransaction", [tx.raw]).catch(() => {});
      await sleep(50);
    }
    while (!victim && performance.now() - t0 < 20_000) await sleep(5);
    await killed;
    return { victim, observer, promised: [...promised.values()] };
  } finally {
    for (const s of subs) s.close();
  }
}

/**
 * One trial: transfers go to an observer; once the round-0 proposer of a height has
 * preconfirmed some of them, it is killed (-9). Returns how many it preconfirmed and how many of
 * those committed with the receipt promised (block, position, status, gas, logs) within 60 s.
 */
export async function keptAfterKill(d: Devnet): Promise<{ promised: number; kept: number }> {
  const account = d.loadAccounts[0] as { address: Hex; privateKey: Hex };
  const ask = d.nodes.find((n) => n.state === "running") as Node;
  // Whatever an earlier trial sent is in the pools or a block: go on after it.
  const nonce = Number(
    await rpcCall<string>(ask.rpcUrl, "eth_getTransactionCount", [account.address, "pending"]),
  );
  const txs = signTransfers({ accounts: [account], chainId: d.chainId }, [nonce], 400);
  const { victim, observer, promised } = await killAfterPreconf(d, txs);
  if (!victim) return { promised: 0, kept: 0 };
  let kept = 0;
  for (const p of promised) {
    const got = await committedReceipt(observer.rpcUrl, p.transactionHash, 60_000);
    const diff = receiptDifferences(p, got);
    if (diff.length === 0) kept++;
    else console.log(`  ${p.transactionHash} not kept: ${diff.join(", ")}`);
  }
  await victim.restart();
  await victim.waitReady(60_000);
  const target = await blockNumber(observer.rpcUrl);
  while ((await blockNumber(victim.rpcUrl).catch(() => 0)) < target) await sleep(250);
  return { promised: promised.length, kept };
}

/** The three metrics plus failures (trials where nothing was preconfirmed). */
export async function measurePreconf(
  d: Devnet,
  opts: { halfTps: number; durationMs?: number; kills?: number },
): Promise<Record<string, number>> {
  const lat = await preconfLatency(d, opts.halfTps, opts.durationMs ?? 20_000);
  console.log(
    `  preconf at ${opts.halfTps} tx/s: p50 ${lat.p50.toFixed(0)} ms p99 ${lat.p99.toFixed(0)} ms, ${lat.preconfirmed} preconfirmed, ${lat.missing} not`,
  );
  const kills = opts.kills ?? 20;
  let promised = 0;
  let kept = 0;
  let failures = 0;
  for (let i = 0; i < kills; i++) {
    const r = await keptAfterKill(d).catch((err: unknown) => {
      console.log(`  kill ${i + 1}: ${(err as Error).message}`);
      return { promised: 0, kept: 0 };
    });
    if (r.promised === 0) failures++;
    promised += r.promised;
    kept += r.kept;
    console.log(`  kill ${i + 1}: ${r.kept}/${r.promised} preconfirmed transactions landed as promised`);
  }
  return {
    preconf_p50_ms: lat.p50,
    preconf_p99_ms: lat.p99,
    preconf_kept_ratio: promised === 0 ? 0 : kept / promised,
    preconf_failures: failures,
  };
}
