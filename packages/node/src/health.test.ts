import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, createMetrics } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { AdminServer, type Health, type NodeStatus } from "./admin.ts";
import { type L1StatusInput, L1Tracker, probesOf, SyncTracker } from "./health.ts";

const opts = {
  windowMs: 10_000,
  maxBehind: 2,
  staleAfterMs: 10_000,
  stuckAfterMs: 30_000,
  blockTimeMs: 2_000,
};

describe("SyncTracker", () => {
  it("a node at the best peer's head with a recent block is synced, ready and live", () => {
    const t = new SyncTracker(opts);
    const v = t.observe({ at: 100_000, head: 50, highestPeerHead: 51, headTimestampMs: 99_000, peers: 3 });
    expect(v.state).toBe("synced");
    expect(probesOf(v, false)).toEqual({ live: true, ready: true });
    expect(probesOf(v, true)).toEqual({ live: false, ready: false });
  });

  it("behind peers and moving is catching up (rate and ETA), not ready but live", () => {
    const t = new SyncTracker(opts);
    t.observe({ at: 0, head: 0, highestPeerHead: 1000, headTimestampMs: -3_600_000, peers: 2 });
    const v = t.observe({
      at: 5_000,
      head: 100,
      highestPeerHead: 1000,
      headTimestampMs: -3_000_000,
      peers: 2,
    });
    expect(v.state).toBe("catching-up");
    expect(v.behind).toBe(900);
    expect(v.blocksPerSecond).toBe(20);
    expect(v.etaSeconds).toBe(45);
    expect(probesOf(v, false)).toEqual({ live: true, ready: false });
  });

  it("behind peers with no progress for stuckAfterMs is stuck: liveness fails so a restart can help", () => {
    const t = new SyncTracker(opts);
    let v = t.observe({ at: 0, head: 10, highestPeerHead: 500, headTimestampMs: -60_000, peers: 2 });
    for (let at = 1_000; at <= 29_000; at += 1_000)
      v = t.observe({ at, head: 10, highestPeerHead: 500, headTimestampMs: -60_000, peers: 2 });
    expect(v.state).toBe("catching-up");
    v = t.observe({ at: 31_000, head: 10, highestPeerHead: 500, headTimestampMs: -60_000, peers: 2 });
    expect(v.state).toBe("stuck");
    expect(v.blocksPerSecond).toBe(0);
    expect(probesOf(v, false)).toEqual({ live: false, ready: false });
    // One block of progress resets the clock: catching up again.
    v = t.observe({ at: 32_000, head: 11, highestPeerHead: 500, headTimestampMs: -58_000, peers: 2 });
    expect(v.state).toBe("catching-up");
  });

  it("no peer ahead and a stale head is a stalled chain (liveness holds: restarting all would not help)", () => {
    const t = new SyncTracker(opts);
    const v = t.observe({ at: 100_000, head: 50, highestPeerHead: 50, headTimestampMs: 60_000, peers: 3 });
    expect(v.state).toBe("stalled");
    expect(probesOf(v, false)).toEqual({ live: true, ready: false });
    const alone = new SyncTracker(opts).observe({
      at: 100_000,
      head: 50,
      highestPeerHead: 50,
      headTimestampMs: 60_000,
      peers: 0,
    });
    expect(alone.state).toBe("isolated");
  });

  it("the stale threshold is at least five block times", () => {
    const t = new SyncTracker({ ...opts, blockTimeMs: 4_000 });
    const v = t.observe({ at: 100_000, head: 50, highestPeerHead: 50, headTimestampMs: 85_000, peers: 1 });
    expect(v.state).toBe("synced");
  });
});

describe("L1Tracker and the L1 part of /health", () => {
  const up: L1StatusInput = {
    reachable: true,
    head: 100,
    confirmed: 88,
    lagBlocks: 12,
    consecutiveFailures: 0,
    halted: false,
    entriesConfirmed: "3",
  };

  it("an L1 that answers and is followed is ok, with head, confirmed head and lag", () => {
    const v = new L1Tracker().observe(1_000, up);
    expect(v).toMatchObject({
      configured: true,
      state: "ok",
      endpoint: "up",
      lastBlockSeen: 100,
      confirmedHead: 88,
      lagBlocks: 12,
      headAgeMs: 0,
      entriesConfirmed: "3",
      deepReorgs: 0,
    });
  });

  it("down, lagging, stale, deep-reorg and halted each win over the ones after them", () => {
    const t = new L1Tracker({ maxLagBlocks: 20, staleHeadMs: 60_000 });
    t.observe(0, up);
    expect(t.observe(1_000, { ...up, head: 101, lagBlocks: 21 }).state).toBe("lagging");
    // The head stays at 101 from t=1 s: stale once it has not moved for over a minute.
    expect(t.observe(60_000, { ...up, head: 101, lagBlocks: 13 }).state).toBe("ok");
    const stale = t.observe(62_000, { ...up, head: 101, lagBlocks: 13 });
    expect(stale.state).toBe("stale");
    expect(stale.headAgeMs).toBe(61_000);
    // A head that goes backwards does not count as movement.
    expect(t.observe(63_000, { ...up, head: 90, lagBlocks: 2 }).headAgeMs).toBe(62_000);
    const down = t.observe(64_000, { ...up, reachable: false, consecutiveFailures: 4, lagBlocks: 99 });
    expect(down).toMatchObject({ state: "down", endpoint: "down", consecutiveFailures: 4 });
    expect(down.reason).toMatch(/4 failed polls/);
    const deep = t.observe(65_000, { ...up, reachable: false, head: 90, deepReorgs: 1 });
    expect(deep.state).toBe("deep-reorg");
    expect(t.observe(66_000, { ...up, halted: true, deepReorgs: 1 }).state).toBe("halted");
    // And back: reachable, moving, within the lag bound.
    expect(t.observe(67_000, { ...up, head: 102 }).state).toBe("ok");
  });

  it("/health and /api/status carry the L1 fields when the node has an L1, 'not configured' when not", async () => {
    let l1: L1StatusInput | undefined = { ...up, reachable: false, consecutiveFailures: 2 };
    const dir = mkdtempSync(join(tmpdir(), "dseq-health-l1-"));
    const server = new AdminServer(
      { dataDir: dir },
      {
        metrics: createMetrics(),
        health: () => fakeHealth,
        l1: () => l1,
        logger: createLogger({ level: "fatal" }),
      },
    );
    try {
      const { port } = await server.listen("127.0.0.1", 0);
      const get = async (path: string) => {
        const r = await fetch(`http://127.0.0.1:${port}${path}`);
        return { code: r.status, body: (await r.json()) as NodeStatus };
      };
      const h = await get("/health");
      // L1 down is reported; it never turns a synced node's /health into a 503 (ADR 0122).
      expect(h.code).toBe(200);
      expect(h.body.l1).toMatchObject({
        configured: true,
        state: "down",
        endpoint: "down",
        lastBlockSeen: 100,
      });
      l1 = up;
      const s = await get("/api/status");
      expect(s.body.l1).toMatchObject({ state: "ok", endpoint: "up", confirmedHead: 88, lagBlocks: 12 });
      l1 = undefined;
      expect((await get("/api/status")).body.l1).toEqual({ configured: false });
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const fakeHealth: Health = {
  synced: true,
  mode: "validator",
  head: { number: 10, hash: `0x${"ab".repeat(32)}`, timestamp: Math.floor(Date.now() / 1000) },
  lastBlockAgeMs: 500,
  currentSequencer: `0x${"11".repeat(20)}`,
  isSequencer: false,
  peers: 3,
  consensus: { height: 11, round: 0, halted: false },
  address: `0x${"22".repeat(20)}`,
  chainId: 1337,
  blockTimeMs: 2000,
  highestPeerHead: 10,
  signer: true,
  span: { index: 0, startHeight: 1, endHeight: 8 },
  nextSequencer: undefined,
  reelection: { missStreak: 0, reelectAfterMisses: 3, excluded: [] },
  validators: [],
  totalPower: 0,
  rewardPerBlock: "0",
  pool: { size: 0 },
  evidence: { consensus: { count: 0, latest: undefined }, fragments: { count: 0, latest: undefined } },
};
