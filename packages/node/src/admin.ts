import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { EventBus, Hex, Logger, Metrics } from "@dseq/common";
import { dashboardAsset } from "./dashboard/assets.ts";
import {
  BlockHistory,
  type BlockPoint,
  type CommittedEvent,
  type OwnActivity,
} from "./dashboard/blockHistory.ts";
import {
  type EvidenceHealth,
  type L1Health,
  type L1StatusInput,
  L1Tracker,
  type L1TrackerOptions,
  type Probes,
  probesOf,
  SyncTracker,
  type SyncTrackerOptions,
  type SyncView,
} from "./health.ts";

/** What the node reports about itself (`DseqNode.health()`): plain, JSON-serialisable facts. */
export type Health = {
  synced: boolean;
  mode: "validator" | "follower";
  head: { number: number; hash: string; timestamp: number };
  lastBlockAgeMs: number;
  currentSequencer: string;
  isSequencer: boolean;
  peers: number;
  consensus: { height: number | undefined; round: number | undefined; halted: boolean };
  address: string;
  chainId: number;
  blockTimeMs: number;
  /** Highest head a connected peer reported (>= head.number). */
  highestPeerHead: number;
  /** Whether this node signs (a validator whose key is in the set). */
  signer: boolean;
  span: { index: number; startHeight: number; endHeight: number };
  /** The next span's sequencer as drawn if the current span ended now. */
  nextSequencer: { span: number; startHeight: number; address: string } | undefined;
  reelection: { missStreak: number; reelectAfterMisses: number; excluded: string[] };
  validators: {
    id: number;
    address: string;
    power: number;
    /** Rewards since genesis and since the last checkpoint, wei as decimal strings. */
    earned: string;
    accrued: string;
  }[];
  totalPower: number;
  rewardPerBlock: string;
  pool: { size: number };
  /** Equivocation evidence this node keeps: counts and the latest of each kind (ADR 0178). */
  evidence: EvidenceHealth;
  /** TSS group membership and batch lag (ADR 0154); absent without a `batches` section. */
  batches?: import("./start/initBatches.ts").BatchesStatus;
};

/** What a module the node does not run yet shows: the dashboard says "not configured". */
export type NotConfigured = { configured: false };

/** `/api/status`: the node's facts plus what the admin server derived over time. */
export type NodeStatus = Omit<Health, "batches"> & {
  sync: SyncView;
  probes: Probes;
  own: OwnActivity & { earned: string; accrued: string };
  blocks: BlockPoint[];
  disk: { dataDir: string; freeBytes: number | undefined };
  /** The L1 side (ADR 0122): reported, never a reason for a 503. */
  l1: L1Health | NotConfigured;
  batches: NonNullable<Health["batches"]> | NotConfigured;
  tss: NotConfigured;
  rewardsClaimable: NotConfigured;
  at: number;
};

export type AdminServerOptions = {
  dataDir: string;
  /** Samples (and pushes to dashboards) this often. */
  sampleIntervalMs: number;
  /** Blocks kept for the charts. */
  keepBlocks: number;
  sync: Partial<SyncTrackerOptions>;
  l1: Partial<L1TrackerOptions>;
};

export const defaultAdminServerOptions: Omit<AdminServerOptions, "dataDir"> = {
  sampleIntervalMs: 1_000,
  keepBlocks: 120,
  sync: {},
  l1: {},
};

export type AdminServerModules = {
  metrics: Metrics;
  health: () => Health;
  /** The node's L1 side (`DseqNode.l1Status()`); absent or undefined: no `l1` config section. */
  l1?: () => L1StatusInput | undefined;
  /** The node's bus: each committed block is recorded for the charts and own activity. */
  events?: EventBus<{ "node.committed": CommittedEvent }>;
  certificate?: (height: number) => Promise<Uint8Array | undefined>;
  round0Proposer?: (height: number) => Hex | undefined;
  logger: Logger;
  now?: () => number;
};

const SYNC_STATES = ["synced", "catching-up", "stuck", "stalled", "isolated"] as const;

/**
 * The operator's port: `/metrics` (Prometheus), `/health` (JSON, 200 when synced and not
 * halted), `/livez` and `/readyz` (orchestrator probes, ADR 0115), `/api/status` (everything the
 * dashboard shows), `/api/events` (the same as server-sent events, one a second and on each
 * commit) and the dashboard itself at `/` (plain modules served from here, no CDN).
 */
export class AdminServer {
  private readonly server: Server;
  private readonly opts: AdminServerOptions;
  private readonly m: AdminServerModules;
  private readonly log: Logger;
  private readonly tracker: SyncTracker;
  private readonly l1Tracker: L1Tracker;
  private readonly history: BlockHistory;
  private readonly clients = new Set<ServerResponse>();
  private readonly now: () => number;
  private last: NodeStatus | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly syncGauge;
  private readonly behindGauge;
  private readonly haltedGauge;
  private unsubscribe: (() => void) | undefined;

  constructor(opts: Partial<AdminServerOptions> & { dataDir: string }, modules: AdminServerModules) {
    this.opts = { ...defaultAdminServerOptions, ...opts };
    this.m = modules;
    this.log = modules.logger;
    this.now = modules.now ?? Date.now;
    this.tracker = new SyncTracker(this.opts.sync);
    this.l1Tracker = new L1Tracker(this.opts.l1);
    this.history = new BlockHistory(
      { keep: this.opts.keepBlocks },
      {
        self: () => this.last?.address ?? "",
        isSigner: () => this.last?.signer ?? false,
        certificate: modules.certificate ?? (async () => undefined),
        round0Proposer: (h) => {
          try {
            return modules.round0Proposer?.(h);
          } catch {
            return undefined;
          }
        },
        metrics: modules.metrics,
        logger: modules.logger,
        now: this.now,
      },
    );
    this.syncGauge = modules.metrics.gauge({
      name: "dseq_node_sync_state",
      help: "1 for the node's current sync state (synced, catching-up, stuck, stalled, isolated)",
      labelNames: ["state"],
    });
    this.behindGauge = modules.metrics.gauge({
      name: "dseq_node_blocks_behind",
      help: "blocks between this node's head and the highest peer head",
    });
    this.haltedGauge = modules.metrics.gauge({
      name: "dseq_node_consensus_halted",
      help: "1 when consensus halted on a broken invariant (the node will not sign until restarted)",
    });
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** Samples the node now: health, sync verdict, disk. */
  sample(): NodeStatus {
    const h = this.m.health();
    const at = this.now();
    const sync = this.tracker.observe({
      at,
      head: h.head.number,
      highestPeerHead: h.highestPeerHead,
      headTimestampMs: h.head.timestamp * 1000,
      peers: h.peers,
    });
    for (const s of SYNC_STATES) this.syncGauge.set(s === sync.state ? 1 : 0, { state: s });
    this.behindGauge.set(sync.behind);
    this.haltedGauge.set(h.consensus.halted ? 1 : 0);
    const l1 = this.m.l1?.();
    const mine = h.validators.find((v) => v.address.toLowerCase() === h.address.toLowerCase());
    this.last = {
      ...h,
      sync,
      probes: probesOf(sync, h.consensus.halted),
      own: { ...this.history.own, earned: mine?.earned ?? "0", accrued: mine?.accrued ?? "0" },
      blocks: [...this.history.blocks],
      disk: { dataDir: this.opts.dataDir, freeBytes: this.history.sampleDisk(this.opts.dataDir) },
      l1: l1 ? this.l1Tracker.observe(at, l1) : { configured: false },
      batches: h.batches ?? { configured: false },
      tss: { configured: false },
      rewardsClaimable: { configured: false },
      at,
    };
    return this.last;
  }

  private push(): void {
    if (this.clients.size === 0) return;
    const data = `data: ${JSON.stringify(this.sample())}\n\n`;
    for (const c of this.clients) c.write(data);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD" }).end();
        return;
      }
      if (path === "/metrics") {
        this.sample();
        const body = await this.m.metrics.render();
        res.writeHead(200, { "content-type": this.m.metrics.contentType }).end(body);
      } else if (path === "/health") {
        const s = this.sample();
        const ok = s.synced && !s.consensus.halted;
        this.json(res, ok ? 200 : 503, s);
      } else if (path === "/livez" || path === "/readyz") {
        const s = this.sample();
        const ok = path === "/livez" ? s.probes.live : s.probes.ready;
        this.json(res, ok ? 200 : 503, {
          ok,
          state: s.sync.state,
          reason: s.sync.reason,
          halted: s.consensus.halted,
        });
      } else if (path === "/api/status") {
        this.json(res, 200, this.sample());
      } else if (path === "/api/events") {
        res.writeHead(200, {
          "content-type": "text/event-stream",
          "cache-control": "no-store",
          connection: "keep-alive",
        });
        res.write(`retry: 2000\ndata: ${JSON.stringify(this.sample())}\n\n`);
        this.clients.add(res);
        req.on("close", () => this.clients.delete(res));
      } else {
        const asset = dashboardAsset(path);
        if (asset) {
          res.writeHead(200, {
            "content-type": asset.contentType,
            "cache-control": "no-cache",
            "content-security-policy": "default-src 'self'; style-src 'self'; script-src 'self'",
          });
          res.end(asset.body);
        } else {
          res
            .writeHead(404, { "content-type": "text/plain" })
            .end("not found: try /, /health, /livez, /readyz, /api/status or /metrics\n");
        }
      }
    } catch (err) {
      this.log.error("admin request failed", { err });
      if (!res.headersSent) res.writeHead(500).end();
    }
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    res
      .writeHead(code, { "content-type": "application/json", "cache-control": "no-store" })
      .end(JSON.stringify(body));
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once("error", onError);
      this.server.listen(port, host, () => {
        this.server.off("error", onError);
        this.sample();
        this.timer = setInterval(() => {
          try {
            if (this.clients.size > 0) this.push();
            else this.sample();
          } catch (err) {
            this.log.warn("admin sample failed", { err });
          }
        }, this.opts.sampleIntervalMs);
        this.timer.unref();
        this.unsubscribe = this.m.events?.on("node.committed", (e) => {
          this.history.onCommitted(e);
          this.push();
        });
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    for (const c of this.clients) c.end();
    this.clients.clear();
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
