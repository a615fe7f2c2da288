// e2e of batches (issue #24): real `dseq start` processes, a real dev L1 (EDR, 1 s blocks), a
// real genesis DKG among the 4 validators before the inbox is deployed with its group key. Under
// load, batches threshold-signed by the set land on L1 and cover every committed block once, in
// order, with the L2's block hashes, state roots and transactions; the coordinator killed with
// SIGKILL mid-signing is replaced by the next submitter; an L1 outage delays batches, none is
// lost or doubled. afterAll stops every process and removes the temp dir.
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The top-level test folder has no workspace links of its own: packages by their entry points.
import { decodeBatch, inboxReader } from "../packages/batch-submitter/src/index.ts";
import { createLogger, type Hex } from "../packages/common/src/index.ts";
import {
  type Devnet,
  type DevnetNode,
  getBlock,
  rpcCall,
  runLoad,
  startDevnet,
} from "../packages/devnet/src/index.ts";
import { head, waitFor } from "./l1Helpers.ts";

const log = createLogger({ base: { test: "batches-e2e" } });
const BLOCK_MS = 1000;

describe("batches: threshold-signed by the set, posted to L1 by the running nodes", () => {
  let root: string;
  let d: Devnet;
  let inbox: ReturnType<typeof inboxReader>;
  const load = new AbortController();
  let loadDone: Promise<unknown> | undefined;

  const appended = () => inbox.batches();
  const submitterOf = (n: DevnetNode): Hex => {
    const i = d.validators.indexOf(n);
    return d.l1!.accounts[16 + i]!.address.toLowerCase() as Hex;
  };
  const running = () => d.validators.filter((n) => n.state === "running");

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "batches-e2e-"));
    const t0 = Date.now();
    d = await startDevnet({
      dataDir: join(root, "net"),
      validators: 4,
      followers: 0,
      blockTimeMs: BLOCK_MS,
      spanLength: 1000,
      loadAccounts: 8,
      readyTimeoutMs: 120_000,
      l1: {
        blockTimeSeconds: 1,
        confirmations: 2,
        pollIntervalMs: 300,
        batches: { maxBlocks: 10, maxAgeSeconds: 6, confirmations: 2, takeoverMs: 5000, pollMs: 500 },
      },
      logger: log,
    });
    inbox = inboxReader(d.l1!.directUrl, d.l1!.deployment.batchInbox);
    log.info("batch devnet up", { ms: Date.now() - t0 });
    loadDone = runLoad({
      rpcUrls: d.validators.map((v) => v.rpcUrl),
      accounts: d.loadAccounts,
      chainId: d.chainId,
      tps: 20,
      durationMs: 600_000,
      drainMs: 0,
      signal: load.signal,
    }).catch(() => undefined);
  }, 240_000);

  afterAll(async () => {
    load.abort();
    await loadDone;
    await d?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  }, 60_000);

  it("the inbox was deployed with the genesis DKG's key and every validator holds a share", async () => {
    const key = await inbox.groupKey();
    for (const v of d.validators) {
      const h = (await (await fetch(`${v.adminUrl}/health`)).json()) as {
        batches?: { inGroup: boolean; groupKey?: string; submitter: boolean };
      };
      expect(h.batches).toMatchObject({ inGroup: true, groupKey: key, submitter: true });
    }
  });

  it("under load, batches land continuously and cover every committed block once, in order", async () => {
    await waitFor("3 batches on L1", async () => (await appended()).length >= 3, 90_000, 500);
    await checkCoverage();
    // /health follows the inbox: batches are not behind.
    const h = await waitFor(
      "v2's /health seeing the inbox",
      async () => {
        const r = (await (await fetch(`${d.node("v2").adminUrl}/health`)).json()) as {
          batches: { inbox?: { batchIndex: string }; behind: boolean; blocksBehind?: number };
        };
        return Number(r.batches.inbox?.batchIndex ?? 0) >= 3 ? r.batches : undefined;
      },
      20_000,
    );
    expect(h.behind).toBe(false);
    expect(h.blocksBehind).toBeLessThan(40);
    const st = await rpcCall<{ batches?: { inGroup: boolean; submitter: boolean } }>(
      d.node("v3").rpcUrl,
      "dseq_syncStatus",
      [],
      2000,
    );
    expect(st.batches).toMatchObject({ inGroup: true, submitter: true });
  }, 120_000);

  it("the coordinator killed (SIGKILL) mid-signing: another submitter completes the batch", async () => {
    let proven = false;
    for (let attempt = 0; attempt < 3 && !proven; attempt++) {
      const next = BigInt((await appended()).length + 1);
      const seen = await waitFor(
        `a node signing batch ${next}`,
        async () => running().find((n) => logHas(n, "batch signing", next)),
        60_000,
        10,
      );
      await seen.kill();
      const cut = logHas(seen, "batch cut", next);
      log.info("killed the coordinator", { node: seen.name, batchIndex: next.toString(), signedFirst: cut });
      const landed = await waitFor(
        `batch ${next} on L1`,
        async () => (await appended()).find((b) => b.batchIndex === next),
        60_000,
        500,
      );
      await seen.start();
      await seen.waitReady(60_000);
      // Its share survived the SIGKILL: sealed in its data dir, it is in the group again.
      const back = (await (await fetch(`${seen.adminUrl}/health`)).json()) as {
        batches: { inGroup: boolean };
      };
      expect(back.batches.inGroup).toBe(true);
      if (cut) continue; // it finished signing before the kill: try the next batch
      expect(landed.submitter).not.toBe(submitterOf(seen));
      proven = true;
      log.info("batch completed by another submitter", { batchIndex: next.toString(), by: landed.submitter });
    }
    expect(proven).toBe(true);
    await checkCoverage();
  }, 240_000);

  it("L1 down and up: L2 goes on, batches resume after, none doubled", async () => {
    const before = (await appended()).length;
    await d.l1!.down();
    const v = running()[0]!;
    const h0 = await head(v);
    await waitFor("5 L2 blocks with L1 down", async () => (await head(v)) >= h0 + 5, 60_000);
    const h1 = await head(v);
    await d.l1!.up();
    await waitFor(
      "a batch past the outage",
      async () => (await appended()).some((b) => Number(b.lastBlock) >= h1),
      90_000,
      500,
    );
    expect((await appended()).length).toBeGreaterThan(before);
    await checkCoverage();
  }, 150_000);

  /** Every batch extends the previous one: indices 1..n, blocks 1..last with no gap or overlap, L2's hashes, roots and txs. */
  async function checkCoverage(): Promise<void> {
    const batches = await inbox.batches({ withData: true });
    const v = running()[0]!;
    let expectFirst = 1n;
    let txs = 0;
    for (const [i, b] of batches.entries()) {
      expect(b.batchIndex).toBe(BigInt(i + 1));
      expect(b.firstBlock).toBe(expectFirst);
      expectFirst = b.lastBlock + 1n;
      const last = await getBlock(v.rpcUrl, Number(b.lastBlock));
      expect(b.lastBlockHash).toBe(last?.hash);
      expect(b.stateRoot).toBe((last as unknown as { stateRoot: Hex }).stateRoot);
      const blocks = decodeBatch(b.data!, { chainId: BigInt(d.chainId) });
      expect(blocks.map((x) => x.number)).toEqual(
        Array.from({ length: Number(b.lastBlock - b.firstBlock) + 1 }, (_, k) => b.firstBlock + BigInt(k)),
      );
      for (const blk of blocks) {
        const l2 = (await rpcCall<{ transactions: Hex[] }>(
          v.rpcUrl,
          "eth_getBlockByNumber",
          [`0x${blk.number.toString(16)}`, false],
          2000,
        ))!;
        expect(blk.transactions.length).toBe(l2.transactions.length);
        txs += blk.transactions.length;
      }
    }
    const [tip, root] = await Promise.all([inbox.lastL2Block(), inbox.lastStateRoot()]);
    const tipBlock = (await getBlock(v.rpcUrl, Number(tip))) as unknown as { stateRoot: Hex };
    expect(root).toBe(tipBlock.stateRoot);
    log.info("coverage checked", {
      batches: batches.length,
      lastBlock: tip.toString(),
      txs,
      submitters: new Set(batches.map((b) => b.submitter)).size,
    });
  }
});

/** Lines `msg` for `batchIndex` in the node's log; reads only what was appended since the last call. */
const logSeen = new Map<string, { offset: number; lines: string[] }>();
function logHas(n: DevnetNode, msg: string, batchIndex: bigint): boolean {
  const st = logSeen.get(n.logPath) ?? { offset: 0, lines: [] };
  logSeen.set(n.logPath, st);
  try {
    const fd = openSync(n.logPath, "r");
    try {
      const size = fstatSync(fd).size;
      if (size > st.offset) {
        const buf = Buffer.alloc(size - st.offset);
        readSync(fd, buf, 0, buf.length, st.offset);
        const text = buf.toString("utf8");
        const end = text.lastIndexOf("\n") + 1;
        st.offset += Buffer.byteLength(text.slice(0, end));
        for (const l of text.slice(0, end).split("\n")) if (l.includes('"batchIndex"')) st.lines.push(l);
      }
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
  const re = new RegExp(`"batchIndex":"?${batchIndex.toString()}"?[,}]`);
  return st.lines.some((l) => l.includes(`"msg":"${msg}"`) && re.test(l));
}
