/**
 * Tells a node that is catching up from one that is stuck, and both from a chain that stalled.
 * The admin server feeds it one sample a second; the verdicts drive `/livez`, `/readyz`,
 * the dashboard and `dseq status`.
 */
export type SyncState = "synced" | "catching-up" | "stuck" | "stalled" | "isolated";

export type SyncSample = {
  /** Wall clock of the sample, ms. */
  at: number;
  head: number;
  /** Highest head a connected peer reported (>= head). */
  highestPeerHead: number;
  /** The head block's timestamp, ms. */
  headTimestampMs: number;
  peers: number;
};

export type SyncView = {
  state: SyncState;
  /** Blocks between this node's head and the highest peer's. */
  behind: number;
  /** Head progress over the window, blocks per second. */
  blocksPerSecond: number;
  /** Time since this node's head last moved, ms. */
  noProgressMs: number;
  lastBlockAgeMs: number;
  /** Blocks left / progress rate, when catching up. */
  etaSeconds: number | undefined;
  reason: string;
};

export type SyncTrackerOptions = {
  /** Progress rate is measured over this window. */
  windowMs: number;
  /** Up to this many blocks behind the best peer still counts as synced. */
  maxBehind: number;
  /** A head older than this (and 5 block times) is stale. */
  staleAfterMs: number;
  /** Behind peers with no head progress for this long: stuck (a restart may help). */
  stuckAfterMs: number;
  blockTimeMs: number;
};

export const defaultSyncTrackerOptions: SyncTrackerOptions = {
  windowMs: 30_000,
  maxBehind: 2,
  staleAfterMs: 10_000,
  stuckAfterMs: 60_000,
  blockTimeMs: 2_000,
};

export type Probes = {
  /** Liveness: false only when a restart is the likely fix (stuck behind peers, or halted). */
  live: boolean;
  /** Readiness: serve traffic only when synced and not halted. */
  ready: boolean;
};

export function probesOf(view: SyncView, halted: boolean): Probes {
  return { live: view.state !== "stuck" && !halted, ready: view.state === "synced" && !halted };
}

export class SyncTracker {
  private readonly opts: SyncTrackerOptions;
  private readonly samples: SyncSample[] = [];
  private lastHead = -1;
  private lastProgressAt = 0;

  constructor(opts: Partial<SyncTrackerOptions> = {}) {
    this.opts = { ...defaultSyncTrackerOptions, ...opts };
  }

  observe(s: SyncSample): SyncView {
    if (s.head > this.lastHead) {
      this.lastHead = s.head;
      this.lastProgressAt = s.at;
    }
    this.samples.push(s);
    while (this.samples.length > 2 && (this.samples[0] as SyncSample).at < s.at - this.opts.windowMs)
      this.samples.shift();
    const first = this.samples[0] as SyncSample;
    const dt = (s.at - first.at) / 1000;
    const blocksPerSecond = dt > 0 ? Math.max(0, s.head - first.head) / dt : 0;
    const behind = Math.max(0, s.highestPeerHead - s.head);
    const lastBlockAgeMs = s.at - s.headTimestampMs;
    const noProgressMs = s.at - this.lastProgressAt;
    const staleMs = Math.max(this.opts.staleAfterMs, this.opts.blockTimeMs * 5);
    const view = (state: SyncState, reason: string): SyncView => ({
      state,
      behind,
      blocksPerSecond,
      noProgressMs,
      lastBlockAgeMs,
      etaSeconds:
        state === "catching-up" && blocksPerSecond > 0 ? Math.ceil(behind / blocksPerSecond) : undefined,
      reason,
    });
    if (behind <= this.opts.maxBehind && lastBlockAgeMs < staleMs)
      return view("synced", "head is recent and no peer is ahead");
    if (behind > this.opts.maxBehind) {
      if (noProgressMs < this.opts.stuckAfterMs)
        return view("catching-up", `${behind} blocks behind the best peer, head moving`);
      return view(
        "stuck",
        `${behind} blocks behind the best peer and the head has not moved for ${Math.round(noProgressMs / 1000)} s`,
      );
    }
    if (s.peers === 0) return view("isolated", "no connected peers and the head is stale");
    return view(
      "stalled",
      `no peer is ahead and the last block is ${Math.round(lastBlockAgeMs / 1000)} s old: the chain is not producing blocks`,
    );
  }
}
