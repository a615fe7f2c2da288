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

/**
 * What the node's L1 side reports each sample (`DseqNode.l1Status()`, from `L1Feed.status()`):
 * the input of the L1 part of `/health` and `/api/status` (ADR 0122).
 */
export type L1StatusInput = {
  /** The last poll answered, the listener runs. */
  reachable: boolean;
  /** Highest L1 block an endpoint reported. */
  head: number | undefined;
  /** The listener's confirmed cursor: the last L1 block whose events count. */
  confirmed: number | undefined;
  /** head - confirmed (the confirmation depth included). */
  lagBlocks: number | undefined;
  consecutiveFailures: number;
  /** The listener stopped on a broken invariant (a reorg deeper than it remembers, a bad store). */
  halted: boolean;
  /** Index after the last confirmed entry (decimal string). */
  entriesConfirmed: string;
  /** L1 reorgs deeper than the confirmations that dropped entries committed L2 blocks hold. */
  deepReorgs?: number;
};

/**
 * halted: the listener stopped; deep-reorg: L1 dropped entries committed L2 blocks hold (an
 * operator must look); down: no endpoint answers; lagging / stale: behind or a head that does
 * not move; ok.
 */
export type L1State = "ok" | "lagging" | "stale" | "down" | "deep-reorg" | "halted";

/** The L1 part of `/health` and `/api/status`. */
export type L1Health = {
  configured: true;
  state: L1State;
  endpoint: "up" | "down";
  lastBlockSeen: number | undefined;
  confirmedHead: number | undefined;
  lagBlocks: number | undefined;
  /** Since the L1 head this node sees last moved, ms; undefined before the first head. */
  headAgeMs: number | undefined;
  consecutiveFailures: number;
  halted: boolean;
  entriesConfirmed: string;
  deepReorgs: number;
  reason: string;
};

export type L1TrackerOptions = {
  /** More blocks than this between the L1 head and the confirmed cursor: lagging. */
  maxLagBlocks: number;
  /** An L1 head that has not moved for this long: stale (the endpoint is stuck or lying). */
  staleHeadMs: number;
};

export const defaultL1TrackerOptions: L1TrackerOptions = { maxLagBlocks: 64, staleHeadMs: 120_000 };

/**
 * Turns the L1 side's raw status into a verdict, remembering when the L1 head last moved. The
 * verdict is reported, never a reason for a 503: L2 makes blocks without L1 (ADR 0122).
 */
export class L1Tracker {
  private readonly opts: L1TrackerOptions;
  private lastHead: number | undefined;
  private lastMoveAt = 0;

  constructor(opts: Partial<L1TrackerOptions> = {}) {
    this.opts = { ...defaultL1TrackerOptions, ...opts };
  }

  observe(at: number, s: L1StatusInput): L1Health {
    if (s.head !== undefined && (this.lastHead === undefined || s.head > this.lastHead)) {
      this.lastHead = s.head;
      this.lastMoveAt = at;
    }
    const headAgeMs = this.lastHead === undefined ? undefined : at - this.lastMoveAt;
    const deepReorgs = s.deepReorgs ?? 0;
    const view = (state: L1State, reason: string): L1Health => ({
      configured: true,
      state,
      endpoint: s.reachable ? "up" : "down",
      lastBlockSeen: s.head,
      confirmedHead: s.confirmed,
      lagBlocks: s.lagBlocks,
      headAgeMs,
      consecutiveFailures: s.consecutiveFailures,
      halted: s.halted,
      entriesConfirmed: s.entriesConfirmed,
      deepReorgs,
      reason,
    });
    if (s.halted) return view("halted", "the L1 listener halted: restart the node after fixing its cause");
    if (deepReorgs > 0)
      return view(
        "deep-reorg",
        `${deepReorgs} L1 reorg(s) deeper than the confirmations dropped entries committed L2 blocks hold`,
      );
    if (!s.reachable) {
      const n = s.consecutiveFailures;
      return view("down", `no L1 endpoint answers (${n} failed poll${n === 1 ? "" : "s"} in a row)`);
    }
    if (s.lagBlocks !== undefined && s.lagBlocks > this.opts.maxLagBlocks)
      return view("lagging", `the confirmed cursor is ${s.lagBlocks} blocks behind the L1 head`);
    if (headAgeMs !== undefined && headAgeMs > this.opts.staleHeadMs)
      return view("stale", `the L1 head has not moved for ${Math.round(headAgeMs / 1000)} s`);
    return view("ok", "L1 reachable and followed");
  }
}

/** What `/health` needs of one fragment-equivocation record (ADR 0171's `FragmentEvidence`). */
export type FragmentEvidenceInput = { height: number; round: number; seq: number; signer: string };

/**
 * What `/health` needs of one consensus evidence record (pos-consensus `Evidence`): double votes
 * and conflicting proposals carry the two messages, a conflicting commit its height.
 */
export type ConsensusEvidenceInput =
  | { type: "duplicateVote"; validator: string; a: { height: number; round: number } }
  | { type: "conflictingProposal"; validator: string; a: { height: number; round: number } }
  | { type: "conflictingCommit"; height: number; validators: readonly string[] };

/**
 * The evidence part of `/health` (ADR 0178): how many records this node keeps of each kind and
 * the latest one, without the signed bytes (those go to whoever slashes, not to a probe).
 * Counts are the records kept (each list is bounded); the `_total` metrics count every one seen.
 */
export type EvidenceHealth = {
  consensus: {
    count: number;
    latest: { type: string; height: number; round: number | undefined; validators: string[] } | undefined;
  };
  fragments: {
    count: number;
    /** `position` is the fragment's index in the proposer's stream of that (height, round). */
    latest: { height: number; round: number; position: number; proposer: string } | undefined;
  };
};

export function evidenceHealthOf(
  consensus: readonly ConsensusEvidenceInput[],
  fragments: readonly FragmentEvidenceInput[],
): EvidenceHealth {
  const c = consensus.at(-1);
  const f = fragments.at(-1);
  return {
    consensus: {
      count: consensus.length,
      latest:
        c === undefined
          ? undefined
          : c.type === "conflictingCommit"
            ? { type: c.type, height: c.height, round: undefined, validators: [...c.validators] }
            : { type: c.type, height: c.a.height, round: c.a.round, validators: [c.validator] },
    },
    fragments: {
      count: fragments.length,
      latest:
        f === undefined
          ? undefined
          : { height: f.height, round: f.round, position: f.seq, proposer: f.signer },
    },
  };
}
