// Preconfirmation metrics on a running devnet (issue #19, ADRs 0170-0173): send -> preconfirmation
// over WebSocket at half load (p50, p99; a transaction never preconfirmed counts as the 10 s
// timeout), and the share of preconfirmed transactions that land with the receipt promised over
// `kills` kill -9 of the proposer right after it preconfirmed them. Used by devnet.bench.ts (same
// run) and by the standalone suite preconf.bench.ts.
import type { Hex } from "@dseq/common";
import type { Devnet } from "../src/devnet.ts";
import { blockNumber, rpcCall } from "../src/jsonRpc.ts";
import { runLoad, signTransfers } from "../src/load.ts";

type Node = Devnet["nodes"][number];
type Receipt = { transactionHash: Hex; status?: string; gasUsed?: string; logs?: unknown[] };
type Message = { proposer: Hex; blockNumber: string; receipts: Receipt[]; transactions: Hex[] };

const TIMEOUT_MS = 10_000;

/** Every preconfirmation message of `node`, as they come. */
function listen(node: Node, onMessage: (m: Message, at: number) => void): Promise<{ close(): void }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(node.wsUrl);
    const t = setTimeout(() => reject(new Error(`no WebSocket on ${node.wsUrl}`)), 10_000);
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
        params?: { result?: Message };
      };
      if (msg.id === 1) {
        clearTimeout(t);
        if (msg.error) reject(new Error(`eth_subscribe("preconfirmations"): ${msg.error.message}`));
        else resolve({ close: () => ws.close() });
      } else if (msg.method === "eth_subscription" && msg.params?.result)
        onMessage(msg.params.result, performance.now());
    });
    ws.addEventListener("error", () => reject(new Error(`WebSocket error on ${node.wsUrl}`)));
  });
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
 * One trial: transfers go to an observer; once the round-0 proposer of the height has
 * preconfirmed some of them, it is killed (-9). Returns how many it preconfirmed and how many of
 * those committed with the same status and gas used within 60 s.
 */
export async function keptAfterKill(
  d: Devnet,
  nonceBase: Map<Hex, number>,
): Promise<{ promised: number; kept: number }> {
  const running = d.nodes.filter((n) => n.state === "running");
  const observer = running[0] as Node;
  const promised = new Map<Hex, Receipt & { proposer: Hex }>();
  let victim: Node | undefined;
  const sub = await listen(observer, (m) => {
    if (victim !== undefined) return;
    const who = d.nodes.find((n) => n.address === m.proposer.toLowerCase());
    if (!who || who === observer) return;
    for (const r of m.receipts) promised.set(r.transactionHash, { ...r, proposer: who.address });
    if (promised.size > 0) victim = who;
  });
  try {
    const account = d.loadAccounts[0] as { address: Hex; privateKey: Hex };
    const nonce =
      nonceBase.get(account.address) ??
      Number(await rpcCall<string>(observer.rpcUrl, "eth_getTransactionCount", [account.address, "pending"]));
    const txs = signTransfers({ accounts: [account], chainId: d.chainId }, [nonce], 5);
    nonceBase.set(account.address, nonce + txs.length);
    const t0 = performance.now();
    for (const tx of txs) {
      await rpcCall(observer.rpcUrl, "eth_sendRawTransaction", [tx.raw]).catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
      if (victim) break;
    }
    while (!victim && performance.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 5));
    const v = victim as Node | undefined;
    if (!v) return { promised: 0, kept: 0 };
    await v.kill();
    const ours = [...promised.values()].filter((r) => txs.some((t) => t.hash === r.transactionHash));
    let kept = 0;
    for (const p of ours) {
      let got: Receipt | null = null;
      const until = performance.now() + 60_000;
      while (got === null && performance.now() < until) {
        got = await rpcCall<Receipt | null>(observer.rpcUrl, "eth_getTransactionReceipt", [
          p.transactionHash,
        ]).catch(() => null);
        if (got === null) await new Promise((r) => setTimeout(r, 100));
      }
      if (got && got.status === p.status && got.gasUsed === p.gasUsed) kept++;
    }
    await v.restart();
    await v.waitReady(60_000);
    const target = await blockNumber(observer.rpcUrl);
    while ((await blockNumber(v.rpcUrl).catch(() => 0)) < target)
      await new Promise((r) => setTimeout(r, 250));
    return { promised: ours.length, kept };
  } finally {
    sub.close();
  }
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
  const nonces = new Map<Hex, number>();
  let promised = 0;
  let kept = 0;
  let failures = 0;
  for (let i = 0; i < kills; i++) {
    const r = await keptAfterKill(d, nonces).catch((err: unknown) => {
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
