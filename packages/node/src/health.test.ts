import { describe, expect, it } from "vitest";
import { probesOf, SyncTracker } from "./health.ts";

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
