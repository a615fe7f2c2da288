// e2e: real `dseq start` processes on 127.0.0.1 (issue 9's test list). One devnet of
// 4 validators + 2 followers (f2 is started late for the catch-up test) serves the first four
// tests in order, so the machine boots it once. Each test is bounded; afterAll stops every
// process and removes the temp dir whatever happened.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, type Hex } from "@dseq/common";
import { decodeBlockExtra } from "@dseq/node";
import { createPublicClient, createWalletClient, http } from "viem";
import { generatePrivateKey, privateKeyToAccount, privateKeyToAddress } from "viem/accounts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Devnet, type DevnetNode, startDevnet } from "../src/devnet.ts";
import { getBlock, rpcCall } from "../src/jsonRpc.ts";
import { type LoadReport, runLoad } from "../src/load.ts";
import {
  commitLines,
  currentSequencer,
  dseqStartAvailable,
  forkHeights,
  hashesOf,
  headOf,
  health,
  logLinesMatching,
  median,
  metricsText,
  sleep,
  waitFor,
} from "./helpers.ts";

const startAvailable = dseqStartAvailable();
// What the lead engineer needs from a run (timings, kills, load figures) goes to the test log.
const log = createLogger({ base: { test: "devnet-e2e" } });
const BLOCK_MS = 2000;
const MISSES = 3;
/** Blocks the late follower must catch up on. */
const LATE_FOLLOWER_BLOCKS = 500;
/**
 * The genesis is this many slots in the past: the validators make the missed slots back to
 * back (catch-up, ADR 0093) before the tests start, so the late follower finds 500 blocks
 * without the suite running for 1,000 s. The rest accrue at 2 s while the other tests run.
 */
const HISTORY_SLOTS = 430;

describe.skipIf(!startAvailable)("devnet e2e: 4 validators + followers", () => {
  let root: string;
  let d: Devnet;
  const running = (): DevnetNode[] => d.nodes.filter((n) => n.state === "running");
  const pick = <T>(xs: T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "devnet-e2e-"));
    d = await startDevnet({
      dataDir: join(root, "net"),
      validators: 4,
      followers: 2,
      blockTimeMs: BLOCK_MS,
      spanLength: 30,
      reelectAfterMisses: MISSES,
      loadAccounts: 64,
      start: ["v1", "v2", "v3", "v4", "f1"],
      readyTimeoutMs: 90_000,
      genesisTimestamp: Math.floor(Date.now() / 1000) - (HISTORY_SLOTS * BLOCK_MS) / 1000,
    });
    // RPC up is not chain live: on a loaded machine the first blocks can take a minute
    await waitFor(
      "every started node at height 2",
      async () => (await Promise.all(running().map(headOf))).every((h) => h >= 2),
      150_000,
      500,
    );
    // then the history: missed slots are made back to back until the head is in the present
    const t0 = Date.now();
    await waitFor(
      "the chain caught up with the clock",
      async () => {
        const b = await getBlock(d.node("v1").rpcUrl, await headOf(d.node("v1")));
        return Number(b?.timestamp) * 1000 >= Date.now() - 3 * BLOCK_MS;
      },
      240_000,
      500,
    );
    log.info(`caught up to height ${await headOf(d.node("v1"))} in ${Date.now() - t0} ms`);
  }, 500_000);

  // A failed test must not leave the next one a broken network: restart what it left dead.
  beforeEach(async () => {
    for (const n of d?.nodes ?? []) {
      if (n.name !== "f2" && n.state === "stopped") {
        await n.start();
        await n.waitReady(60_000);
      }
      if (n.state === "paused") n.resume();
    }
  }, 120_000);

  afterAll(async () => {
    await d?.stop();
    rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it("commits viem transfers sent to random nodes; same hashes everywhere; 2 s spacing", async () => {
    await waitFor("height 3", async () => (await headOf(d.node("v1"))) >= 3, 60_000);
    const startHeight = await headOf(d.node("v1"));
    const senders = d.funded.slice(0, 4);
    const recipients = senders.map(() => privateKeyToAddress(generatePrivateKey()).toLowerCase() as Hex);
    const hashes: { hash: Hex; to: Hex; value: bigint }[] = [];
    await Promise.all(
      senders.map(async (s, i) => {
        const account = privateKeyToAccount(s.privateKey);
        const pub = createPublicClient({ transport: http(pick(running()).rpcUrl) });
        let nonce = await pub.getTransactionCount({ address: account.address, blockTag: "pending" });
        for (let k = 0; k < 5; k++) {
          const wallet = createWalletClient({ account, transport: http(pick(running()).rpcUrl) });
          const value = BigInt(1000 + k);
          const hash = await wallet.sendTransaction({
            to: recipients[i] as Hex,
            value,
            nonce: nonce++,
            gas: 21_000n,
            chain: null,
          });
          hashes.push({ hash, to: recipients[i] as Hex, value });
        }
      }),
    );
    for (const h of hashes) {
      const pub = createPublicClient({ transport: http(pick(running()).rpcUrl) });
      const receipt = await pub.waitForTransactionReceipt({
        hash: h.hash,
        timeout: 60_000,
        pollingInterval: 250,
      });
      expect(receipt.status).toBe("success");
    }
    // every node, the follower included, sees the same balances
    const expected = 1000n + 1001n + 1002n + 1003n + 1004n;
    await waitFor(
      "balances on every node",
      async () => {
        for (const n of running()) {
          const pub = createPublicClient({ transport: http(n.rpcUrl) });
          for (const r of recipients) if ((await pub.getBalance({ address: r })) !== expected) return false;
        }
        return true;
      },
      30_000,
    );
    // let a few more blocks pass, then compare every height on every node
    await waitFor("8 more blocks", async () => (await headOf(d.node("v1"))) >= startHeight + 8, 60_000);
    const top = Math.min(...(await Promise.all(running().map(headOf))));
    expect(await forkHeights(running(), top)).toEqual([]);

    // spacing: commit times from v1's log (ms), header timestamps (s)
    const lines = commitLines(d.node("v1")).filter((l) => l.height > startHeight);
    const gaps = lines.slice(1).map((l, i) => l.time - (lines[i] as { time: number }).time);
    expect(gaps.length).toBeGreaterThanOrEqual(5);
    const m = median(gaps);
    log.info(`block spacing from v1's log: median ${m} ms over ${gaps.length} gaps`);
    expect(Math.abs(m - BLOCK_MS)).toBeLessThanOrEqual(300);
    const ts: number[] = [];
    for (let h = startHeight; h <= top; h++)
      ts.push(Number((await getBlock(d.node("v1").rpcUrl, h))?.timestamp));
    expect(median(ts.slice(1).map((t, i) => t - (ts[i] as number)))).toBe(BLOCK_MS / 1000);
  }, 180_000);

  it("kill -9 of the span sequencer: the chain goes on, re-election after the misses, restart catches up", async () => {
    const observer = (): DevnetNode =>
      pick(running().filter((n) => n.address !== seqAddr && n.role === "validator"));
    // A kill within a few heights of its span's end would be covered by the span's rotation,
    // not by a re-election: kill where the span has room for the misses.
    await waitFor(
      "a span with room for the misses",
      async () => {
        const span = await rpcCall<{ endHeight: number }>(d.node("v1").rpcUrl, "dseq_span", [], 2000);
        return span.endHeight - (await headOf(d.node("v1"))) >= MISSES + 4 ? true : undefined;
      },
      120_000,
    );
    const { sequencer } = await currentSequencer(d.node("v1"));
    const seqAddr = sequencer.toLowerCase();
    const seq = d.nodes.find((n) => n.address === seqAddr);
    expect(seq, `sequencer ${seqAddr} is one of the devnet validators`).toBeDefined();
    const victim = seq as DevnetNode;
    const obs = observer();
    const head0 = await headOf(obs);
    const t0 = Date.now();
    await victim.kill();
    const head1 = await waitFor(
      "a block after the kill",
      async () => {
        const h = await headOf(obs);
        return h > head0 ? h : undefined;
      },
      30_000,
      50,
    );
    const nextBlockMs = Date.now() - t0;
    log.info(
      `killed sequencer ${victim.name} at height ${head0}; next block ${head1} after ${nextBlockMs} ms`,
    );
    // Behaviour here (the chain goes on without its sequencer); the 3 s target is timed at a
    // random moment in the slot by `pnpm bench devnet` (failover_ms), not by a timed test. A
    // kill right after a commit, as here, costs the slot plus one propose timeout.
    expect(nextBlockMs).toBeLessThan(30_000);

    // re-election: a new sequencer, and round-0 blocks from it again
    const newSeq: string = await waitFor(
      "re-election",
      async () => {
        const s = (await currentSequencer(obs)).sequencer.toLowerCase();
        return s !== seqAddr ? s : undefined;
      },
      (MISSES + 4) * BLOCK_MS * 3,
    );
    const reelectedAt = await headOf(obs);
    const roundZero = await waitFor(
      "a round-0 block by the new sequencer",
      async () => {
        const head = await headOf(obs);
        for (let h = head0 + 2; h <= head; h++) {
          const b = await getBlock(obs.rpcUrl, h);
          const extra = decodeBlockExtra(b?.extraData as Hex);
          if (extra.round === 0 && extra.proposer.toLowerCase() === newSeq) return h;
        }
        return undefined;
      },
      30_000,
    );
    // heights between the kill and the new sequencer's first round-0 block: the missed ones
    const missed: number[] = [];
    for (let h = head0 + 2; h < roundZero; h++) {
      const extra = decodeBlockExtra((await getBlock(obs.rpcUrl, h))?.extraData as Hex);
      expect(extra.proposer.toLowerCase()).not.toBe(seqAddr);
      if (extra.round > 0) missed.push(h);
    }
    log.info(
      `re-elected ${newSeq} by height ${reelectedAt}; round>0 heights before its first round-0 block ${roundZero}: ${missed.join(",")}`,
    );
    expect.soft(missed.length).toBeGreaterThanOrEqual(MISSES - 1);
    expect.soft(missed.length).toBeLessThanOrEqual(MISSES + 1);

    // restart: it catches up and follows the chain again
    await victim.restart();
    await victim.waitReady(60_000);
    const target = await headOf(obs);
    await waitFor("restarted node catches up", async () => (await headOf(victim)) >= target + 2, 90_000);
    expect(await forkHeights([obs, victim], target)).toEqual([]);
    const h = await health(victim);
    expect(h.peers).toBeGreaterThan(0);
  }, 200_000);

  it("kill -9 a random validator 10 times under load: no fork, no double sign, nothing lost", async () => {
    const ref = d.node("f1"); // never killed: the reference chain
    const before = await headOf(ref);
    const committedBefore = await hashesOf(ref, 0, before);
    const stop = new AbortController();
    const loadDone: Promise<LoadReport> = runLoad({
      rpcUrls: d.nodes.filter((n) => n.name !== "f2").map((n) => n.rpcUrl),
      watchUrls: [ref.rpcUrl],
      accounts: d.loadAccounts,
      chainId: d.chainId,
      tps: 20,
      durationMs: 240_000,
      drainMs: 30_000,
      signal: stop.signal,
    });
    const kills: string[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const v = pick(d.validators.filter((n) => n.state === "running"));
        await sleep(Math.floor(Math.random() * 2000));
        await v.kill();
        kills.push(`${v.name}@${await headOf(ref)}`);
        await sleep(500 + Math.floor(Math.random() * 1500));
        await v.restart();
        await v.waitReady(60_000);
        const h = await headOf(ref);
        await waitFor(`${v.name} back at ${h}`, async () => (await headOf(v)) >= h, 60_000);
      }
    } finally {
      stop.abort();
    }
    const report = await loadDone;
    log.info(`kills: ${kills.join(" ")}`);
    log.info(
      `load: sent ${report.sent} accepted ${report.accepted} committed ${report.committed} rejected ${report.rejected} ${JSON.stringify(report.errors)}`,
    );
    expect(report.accepted).toBeGreaterThan(0);
    expect(
      report.notCommitted.length,
      `accepted but never committed, e.g. ${report.notCommitted.slice(0, 3).join(", ")}`,
    ).toBe(0);

    const after = await headOf(ref);
    expect(after).toBeGreaterThan(before);
    await waitFor(
      "every node at the reference head",
      async () => (await Promise.all(running().map(headOf))).every((h) => h >= after),
      60_000,
    );
    expect(await forkHeights(running(), after)).toEqual([]);
    expect((await hashesOf(ref, 0, before)).slice(0, before + 1)).toEqual(committedBefore);
    for (const n of d.nodes) {
      expect(logLinesMatching(n, /equivocation evidence/), `${n.name} log`).toEqual([]);
    }
    for (const n of running()) {
      const bad = (await metricsText(n))
        .split("\n")
        .filter((l) => /^dseq_\w*(equivocation|evidence|double_sign)\w*(\{[^}]*\})? [1-9]/.test(l));
      expect(bad, `${n.name} metrics`).toEqual([]);
    }
  }, 420_000);

  it(`a follower started after ${LATE_FOLLOWER_BLOCKS}+ blocks catches up and serves the same state`, async () => {
    const v1 = d.node("v1");
    await waitFor(
      `height ${LATE_FOLLOWER_BLOCKS}`,
      async () => (await headOf(v1)) >= LATE_FOLLOWER_BLOCKS,
      260_000,
      1000,
    );
    const f2 = d.node("f2");
    const t0 = Date.now();
    await f2.start();
    await f2.waitReady(60_000);
    const target = await headOf(v1);
    await waitFor("f2 catches up", async () => (await headOf(f2)) >= target, 180_000, 500);
    log.info(`f2 synced ${target} blocks in ${Date.now() - t0} ms`);
    expect(await forkHeights([v1, f2], target)).toEqual([]);
    const a = createPublicClient({ transport: http(v1.rpcUrl) });
    const b = createPublicClient({ transport: http(f2.rpcUrl) });
    for (const acc of [...d.funded.slice(0, 4), ...d.loadAccounts.slice(0, 4)]) {
      const q = { address: acc.address, blockNumber: BigInt(target) };
      expect(await b.getBalance(q)).toBe(await a.getBalance(q));
      expect(await b.getTransactionCount(q)).toBe(await a.getTransactionCount(q));
    }
    // and it serves: a transfer sent to the follower is committed
    const wallet = createWalletClient({
      account: privateKeyToAccount((d.funded[5] as { privateKey: Hex }).privateKey),
      transport: http(f2.rpcUrl),
    });
    const hash = await wallet.sendTransaction({
      to: d.funded[6]?.address as Hex,
      value: 7n,
      gas: 21_000n,
      chain: null,
    });
    const receipt = await b.waitForTransactionReceipt({ hash, timeout: 60_000, pollingInterval: 250 });
    expect(receipt.status).toBe("success");
  }, 480_000);
});
