import { statSync } from "node:fs";
import { join } from "node:path";
import type { Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { afterAll, describe, expect, it } from "vitest";
import type { DseqNode } from "../src/node.ts";
import { type ByzantineInput, type LocalNet, startLocalNet } from "./helpers/localNet.ts";

/**
 * The Byzantine harness (ADR 0105): 4 validators on real libp2p and LevelDB, one of them
 * misbehaving on purpose. Each network asserts no fork, that the honest nodes keep committing
 * with at most one round lost per faulty proposer slot, and what applies of scoring and evidence.
 */

/** Prints a figure the report quotes (vitest shows stdout). */
function report(what: string, figures: unknown): void {
  process.stdout.write(`${what} ${JSON.stringify(figures)}\n`);
}

type Commit = { height: number; hash: string; round: number; proposer: string };

const log = (process.env.DSEQ_TEST_LOG as "info") ?? "warn";
const MAX_BLOCK_BYTES = 2 * 1024 * 1024;

function waitFor(pred: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (pred()) resolve();
      else if (Date.now() - t0 > ms) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

/** Every commit each watched node makes, by height; `onCommit` runs after each is recorded. */
function record(nodes: DseqNode[], onCommit?: (i: number, c: Commit) => void) {
  const byNode = nodes.map(() => new Map<number, Commit>());
  const offs = nodes.map((n, i) =>
    n.events.on("node.committed", (c) => {
      const commit = { height: c.height, hash: c.hash, round: c.round, proposer: c.proposer.toLowerCase() };
      byNode[i]?.set(c.height, commit);
      onCommit?.(i, commit);
    }),
  );
  return {
    byNode,
    off: () => {
      for (const f of offs) f();
    },
  };
}

/** Same hash at every height all of them committed; returns how many heights that was. */
function expectNoFork(byNode: Map<number, Commit>[]): number {
  const heights = [...(byNode[0]?.keys() ?? [])].filter((h) => byNode.every((m) => m.has(h)));
  for (const h of heights) {
    const hashes = byNode.map((m) => m.get(h)?.hash);
    expect(new Set(hashes).size, `fork at height ${h}: ${hashes.join(" ")}`).toBe(1);
  }
  return heights.length;
}

/** Makes the current span sequencer (round-0 proposer of every height while re-election is off) Byzantine. */
async function makeSequencerByzantine(net: LocalNet, byzantine: ByzantineInput): Promise<number> {
  await waitFor(() => (net.nodes[0]?.health().head.number ?? 0) >= 2, 30_000, "2 blocks");
  const seq = net.nodes[0]?.currentSequencer().toLowerCase();
  const idx = net.nodes.findIndex((n) => n.address.toLowerCase() === seq);
  expect(idx).toBeGreaterThanOrEqual(0);
  await net.nodes[idx]?.stop();
  await net.restart(idx, { byzantine });
  return idx;
}

/** Sum of a counter on node i, over the series whose labels match. */
async function metricSum(
  net: LocalNet,
  i: number,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  let sum = 0;
  for (const v of await (net.metrics[i] as LocalNet["metrics"][number]).values(name))
    if (Object.entries(labels).every(([k, x]) => v.labels[k] === x)) sum += v.value;
  return sum;
}

/** Every series of a counter on node i, as "label=value...: n". */
async function metricSeries(net: LocalNet, i: number, name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of await (net.metrics[i] as LocalNet["metrics"][number]).values(name))
    out[Object.values(v.labels).join(",")] = v.value;
  return out;
}

const walBytes = (net: LocalNet, i: number): number => {
  try {
    return statSync(join(net.dir, `n${i}`, "consensus", "wal")).size;
  } catch {
    return 0;
  }
};

// Re-election off (every height of the span is the faulty sequencer's round 0), 1 s blocks.
const netOptions = {
  validators: 4,
  blockTimeMs: 1000,
  spanLength: 1000,
  reelectAfterMisses: 1000,
  logLevel: log,
};

describe("Byzantine: equivocating proposer and voter, replayed proposals", { timeout: 120_000 }, () => {
  let net: LocalNet | undefined;
  afterAll(async () => {
    await net?.stop();
  });

  it("no fork, commits go on in round <= 1, evidence recorded, honest WALs do not grow with replays", async () => {
    // The replayer is another node: it re-publishes the equivocator's proposals (its own votes are honest).
    net = await startLocalNet({ ...netOptions });
    const s = await makeSequencerByzantine(net, { equivocateProposals: true, equivocateVotes: true });
    const r = (s + 1) % 4;
    await net.nodes[r]?.stop();
    await net.restart(r, { byzantine: { replayGossip: true, replayTimes: 10 } });
    const honest = [0, 1, 2, 3].filter((i) => i !== s && i !== r);
    const watched = [0, 1, 2, 3].filter((i) => i !== s);
    const wal = new Map<number, number>();
    const from = (net.nodes[honest[0] as number]?.health().head.number ?? 0) + 1;
    const rec = record(
      watched.map((i) => net?.nodes[i] as DseqNode),
      (k) => {
        const i = watched[k] as number;
        wal.set(i, Math.max(wal.get(i) ?? 0, walBytes(net as LocalNet, i)));
      },
    );
    const K = 8;
    await waitFor(
      () => rec.byNode.every((m) => [...m.keys()].filter((h) => h >= from).length >= K),
      40_000,
      `${K} heights on every honest node`,
    );
    rec.off();
    const common = expectNoFork(rec.byNode);
    const commits = [...(rec.byNode[0]?.values() ?? [])].filter((c) => c.height >= from);
    const sAddr = net.nodes[s]?.address.toLowerCase();
    for (const c of commits) expect(c.round, `height ${c.height}`).toBeLessThanOrEqual(1);
    const evidence = honest.map((i) => net?.nodes[i]?.evidence() ?? []);
    const types = evidence.map((list) => [...new Set(list.map((e) => e.type))].sort());
    const standing = honest.map((i) => net?.nodes[i]?.peerStanding(net.peerIds[s] as string));
    const walMax = Object.fromEntries(wal);
    const duplicates = await Promise.all(
      honest.map((i) =>
        metricSum(net as LocalNet, i, "dseq_consensus_messages_ignored_total", { reason: "duplicate" }),
      ),
    );
    const evidenceMetric = await Promise.all(
      honest.map((i) => metricSum(net as LocalNet, i, "dseq_consensus_evidence_total")),
    );
    report("equivocation+replay:", {
      heights: commits.map((c) => `${c.height}:r${c.round}:${c.proposer === sAddr ? "S" : "h"}`).join(" "),
      common,
      evidence: evidence.map((l) => l.length),
      types,
      standingOfS: standing,
      walMaxBytes: walMax,
      duplicatesIgnored: duplicates,
      evidenceMetric,
    });
    // Replays are dropped before the WAL: an honest node's WAL stays as small as the
    // replayer's own (which never sees its replays), not 10x its size.
    for (const i of honest) expect(walMax[i] as number).toBeLessThan(2 * (walMax[r] as number) + 4096);
    for (const n of evidenceMetric) expect(n).toBeGreaterThan(0);
    // The replays reached the honest nodes and were dropped as duplicates of signed content.
    for (const n of duplicates) expect(n).toBeGreaterThanOrEqual(K * 5);
    for (const t of types) {
      expect(t).toContain("duplicateVote");
      expect(t).toContain("conflictingProposal");
    }
  });
});

describe("Byzantine: proposer naming a wrong round; poisoned catch-up and a huge head", {
  timeout: 150_000,
}, () => {
  let net: LocalNet | undefined;
  afterAll(async () => {
    await net?.stop();
  });

  it("every faulty slot costs exactly one round; a follower syncs past the poisoner and restarts cleanly", async () => {
    net = await startLocalNet({ ...netOptions });
    const s = await makeSequencerByzantine(net, {
      wrongRound: process.env.DSEQ_WRONG_ROUND === "later" ? "later" : "max",
    });
    const x = (s + 1) % 4;
    await net.nodes[x]?.stop();
    await net.restart(x, { byzantine: { poisonCatchUp: true, hugeHead: true } });
    const honest = [0, 1, 2, 3].filter((i) => i !== s);
    const from = (net.nodes[honest[0] as number]?.health().head.number ?? 0) + 1;
    const rec = record(honest.map((i) => net?.nodes[i] as DseqNode));
    const K = 6;
    await waitFor(
      () => rec.byNode.every((m) => [...m.keys()].filter((h) => h >= from).length >= K),
      40_000,
      `${K} heights on every honest node`,
    );
    const sAddr = net.nodes[s]?.address.toLowerCase();
    const commits = [...(rec.byNode[0]?.values() ?? [])].filter((c) => c.height >= from);
    report(
      "wrongRound:",
      commits.map((c) => `${c.height}:r${c.round}:${c.proposer === sAddr ? "S" : "h"}`).join(" "),
    );
    // Round 0 of each height is the faulty sequencer's (re-election off): its block names the
    // wrong round and is refused, round 1 goes to an honest proposer.
    for (const c of commits) {
      expect(c.round, `height ${c.height}`).toBe(1);
      expect(c.proposer).not.toBe(sAddr);
    }

    // What the honest validators make of a peer claiming head 2^62.
    // A claim above what the clock allows is not believed: they still report being synced.
    const seen = honest.filter((i) => i !== x).map((i) => net?.nodes[i]?.syncStatus());
    report("huge head seen by honest validators:", seen);
    for (const st of seen) {
      expect(st?.highestPeerHead).toBeLessThanOrEqual((st?.head ?? 0) + 2);
      expect(st?.synced).toBe(true);
    }
    // A follower that knows only the poisoner: it takes nothing from it, is not halted, and
    // scores it down; then with one honest validator added it syncs; then it restarts cleanly.
    const h = honest.find((i) => i !== x) as number;
    const alone = await net.addFollower({ peers: [x] });
    const fi = net.nodes.length - 1;
    await waitFor(
      () =>
        alone.peerStanding(net?.peerIds[x] as string).penalties >= 3 ||
        alone.peerStanding(net?.peerIds[x] as string).banned,
      20_000,
      "the follower to penalize the poisoner",
    );
    const poisoner = alone.peerStanding(net.peerIds[x] as string);
    const aloneHead = alone.health().head.number;
    const penaltyReasons = await metricSeries(net, fi, "dseq_p2p_peer_penalties_total");
    report("poisoner alone:", {
      followerHead: aloneHead,
      poisoner,
      penaltyReasons,
      halted: alone.health().consensus.halted,
    });
    expect(aloneHead).toBe(0);
    expect(alone.health().consensus.halted).toBe(false);
    await alone.stop();
    const follower = await net.restart(fi, { peers: [x, h] });
    const caughtUp = (): boolean =>
      follower.health().head.number >= (net?.nodes[h]?.health().head.number ?? 0) - 1;
    const t0 = Date.now();
    await waitFor(caughtUp, 60_000, "follower catch-up");
    const syncMs = Date.now() - t0;
    report("poisoner + honest peer:", {
      followerHead: follower.health().head.number,
      syncMs,
      poisoner: follower.peerStanding(net.peerIds[x] as string),
      honestPeer: follower.peerStanding(net.peerIds[h] as string),
      halted: follower.health().consensus.halted,
    });
    expect(follower.health().consensus.halted).toBe(false);
    expect(follower.peerStanding(net.peerIds[h] as string).banned).toBe(false);
    // Restarts cleanly and keeps following.
    await follower.stop();
    const again = await net.restart(fi);
    const before = again.health().head.number;
    await waitFor(
      () =>
        again.health().head.number > before + 2 &&
        again.health().head.number >= (net?.nodes[h]?.health().head.number ?? 0) - 1,
      30_000,
      "restarted follower to follow",
    );
    rec.off();
    expect(expectNoFork(rec.byNode)).toBeGreaterThanOrEqual(K);
    expect(again.health().consensus.halted).toBe(false);
    report("follower restarted:", { before, after: again.health().head.number });
  });
});

describe("Byzantine: garbage gossip", { timeout: 90_000 }, () => {
  let net: LocalNet | undefined;
  afterAll(async () => {
    await net?.stop();
  });

  it("the sender is scored down and banned; the others keep committing", async () => {
    net = await startLocalNet({
      ...netOptions,
      byzantine: { 3: { garbageGossip: true, garbageGossipEveryMs: 50 } },
    });
    const honest = [0, 1, 2];
    const from = (net.nodes[0]?.health().head.number ?? 0) + 1;
    const rec = record(honest.map((i) => net?.nodes[i] as DseqNode));
    const gPeer = net.peerIds[3] as string;
    await waitFor(
      () => honest.every((i) => net?.nodes[i]?.peerStanding(gPeer).banned === true),
      30_000,
      "every honest node to ban the garbage sender",
    );
    const standing = honest.map((i) => net?.nodes[i]?.peerStanding(gPeer));
    const K = 5;
    await waitFor(
      () => rec.byNode.every((m) => [...m.keys()].filter((h) => h >= from).length >= K),
      30_000,
      `${K} heights`,
    );
    rec.off();
    report("garbage:", { standing, heights: [...(rec.byNode[0]?.keys() ?? [])].join(" ") });
    expect(expectNoFork(rec.byNode)).toBeGreaterThanOrEqual(K);
    for (const st of standing) {
      expect(st?.penalties).toBeGreaterThan(0);
      expect(st?.score).toBeLessThan(0);
    }
    for (const c of rec.byNode[0]?.values() ?? []) expect(c.round).toBeLessThanOrEqual(1);
  });
});

describe("Byzantine: big transactions from users, then an oversized proposer", { timeout: 180_000 }, () => {
  let net: LocalNet | undefined;
  afterAll(async () => {
    await net?.stop();
  });

  const CALLDATA = 127 * 1024;
  /** Two JSON-RPC batch requests of 15 transactions of 127 KiB calldata (zeros: gas lets ~22 in a block, bytes ~16). */
  async function sendBig(url: string, keys: Hex[], nonces: number[]): Promise<Hex[]> {
    const hashes: Hex[] = [];
    await Promise.all(
      keys.map(async (k, ki) => {
        const acct = privateKeyToAccount(k);
        const raws = await Promise.all(
          Array.from({ length: 15 }, (_, i) =>
            acct.signTransaction({
              chainId: 1337,
              type: "eip1559",
              nonce: (nonces[ki] as number) + i,
              to: "0x000000000000000000000000000000000000bEEF",
              value: 0n,
              data: `0x${"00".repeat(CALLDATA)}`,
              gas: 1_400_000n,
              maxFeePerGas: 10n ** 10n,
              maxPriorityFeePerGas: 10n ** 9n,
            }),
          ),
        );
        const body = raws.map((raw, i) => ({
          jsonrpc: "2.0",
          id: i,
          method: "eth_sendRawTransaction",
          params: [raw],
        }));
        const res = (await (
          await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          })
        ).json()) as { result?: Hex; error?: { message: string } }[];
        for (const r of res) {
          expect(r.error, r.error?.message).toBeUndefined();
          hashes.push(r.result as Hex);
        }
      }),
    );
    return hashes;
  }

  async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    return ((await res.json()) as { result: T }).result;
  }

  async function waitIncluded(url: string, hashes: Hex[], ms: number): Promise<number[]> {
    const t0 = Date.now();
    const blocks = new Set<number>();
    for (const hash of hashes) {
      for (;;) {
        const r = await rpc<{ blockNumber: Hex; status: Hex } | null>(url, "eth_getTransactionReceipt", [
          hash,
        ]);
        if (r) {
          expect(r.status).toBe("0x1");
          blocks.add(Number(r.blockNumber));
          break;
        }
        if (Date.now() - t0 > ms) throw new Error(`transaction ${hash} not included within ${ms} ms`);
        await new Promise((res) => setTimeout(res, 250));
      }
    }
    return [...blocks].sort((a, b) => a - b);
  }

  async function blockSizes(
    url: string,
    from: number,
    to: number,
  ): Promise<{ n: number; size: number; txs: number }[]> {
    const out: { n: number; size: number; txs: number }[] = [];
    for (let n = from; n <= to; n++) {
      const b = await rpc<{ size: Hex; transactions: unknown[] }>(url, "eth_getBlockByNumber", [
        `0x${n.toString(16)}`,
        false,
      ]);
      out.push({ n, size: Number(b.size), txs: b.transactions.length });
    }
    return out;
  }

  it("30 txs of 127 KiB over two requests (all honest) are committed in blocks under the cap", async () => {
    net = await startLocalNet({ ...netOptions, rpc: true });
    await waitFor(() => (net?.nodes[0]?.health().head.number ?? 0) >= 2, 30_000, "2 blocks");
    const start = net.nodes[0]?.health().head.number ?? 0;
    const url = net.rpcUrls[1] as string;
    const hashes = await sendBig(
      url,
      [net.funded[0]?.privateKey as Hex, net.funded[1]?.privateKey as Hex],
      [0, 0],
    );
    const blocks = await waitIncluded(url, hashes, 40_000);
    const head = net.nodes[1]?.health().head.number ?? 0;
    const sizes = await blockSizes(url, start + 1, head);
    report("user attack (honest):", { blocks, sizes: sizes.filter((b) => b.txs > 0) });
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const b of sizes) expect(b.size).toBeLessThanOrEqual(MAX_BLOCK_BYTES);
  });

  it("an oversized proposal is refused: one round lost, the same transactions land under the cap", async () => {
    const l = net as LocalNet;
    const s = await makeSequencerByzantine(l, { oversizedBlock: true });
    const sAddr = l.nodes[s]?.address.toLowerCase();
    const h = (s + 1) % 4;
    const url = l.rpcUrls[h] as string;
    const rec = record([l.nodes[h] as DseqNode, l.nodes[(s + 2) % 4] as DseqNode]);
    const start = l.nodes[h]?.health().head.number ?? 0;
    const nonce = async (k: Hex): Promise<number> =>
      Number(await rpc<Hex>(url, "eth_getTransactionCount", [privateKeyToAccount(k).address, "latest"]));
    const keys = [l.funded[0]?.privateKey as Hex, l.funded[2]?.privateKey as Hex];
    const hashes = await sendBig(url, keys, await Promise.all(keys.map(nonce)));
    const blocks = await waitIncluded(url, hashes, 60_000);
    rec.off();
    const head = l.nodes[h]?.health().head.number ?? 0;
    const sizes = await blockSizes(url, start + 1, head);
    const commits = [...(rec.byNode[0]?.values() ?? [])];
    report("oversized proposer:", {
      blocks,
      sizes: sizes.filter((b) => b.txs > 0),
      heights: commits.map((c) => `${c.height}:r${c.round}:${c.proposer === sAddr ? "S" : "h"}`).join(" "),
    });
    expectNoFork(rec.byNode);
    for (const b of sizes) expect(b.size).toBeLessThanOrEqual(MAX_BLOCK_BYTES);
    for (const c of commits) expect(c.round).toBeLessThanOrEqual(1);
    // The faulty sequencer's full pool made at least one block over the cap, refused in round 0.
    expect(commits.some((c) => c.round === 1)).toBe(true);
  });
});
