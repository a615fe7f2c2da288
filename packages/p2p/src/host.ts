import {
  type Clock,
  createNoopLogger,
  DseqError,
  EventBus,
  equalBytes,
  errorMessage,
  type Hex,
  type Logger,
  type Metrics,
  realClock,
  withTimeout,
} from "@dseq/common";
import type { Connection, Libp2p, PeerId, Stream } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { P2pError, P2pErrorCode } from "./errors.ts";
import { FrameError } from "./frames.ts";
import { GossipTopics } from "./gossip.ts";
import { peerIdToAddress, peerIdToPublicKey } from "./identity.ts";
import { createLibp2pNode, type GossipSubRouter, type Services } from "./libp2pNode.ts";
import { type P2pOptions, type P2pOptionsInput, resolveP2pOptions } from "./options.ts";
import { createP2pMetrics, type P2pMetrics } from "./p2pMetrics.ts";
import {
  type AnyProtocolSpec,
  BLOCK_ITEM_OVERHEAD,
  BlocksByRangeProtocol,
  blocksByRangeBudget,
  MAX_BLOCKS_PER_REQUEST,
  type ProtocolSpec,
  protocolBudget,
  protocolId,
  type ResponseBudget,
  ResultCode,
  StatusProtocol,
  TssDirectProtocol,
} from "./protocols.ts";
import { Redialer } from "./redialer.ts";
import { RequestError, type RequestHandler, runRequest, serveRequest } from "./reqresp.ts";
import type { TopicKind } from "./topics.ts";
import type {
  BlockSource,
  MessageSource,
  P2pEvents,
  PeerInfo,
  PeerState,
  TopicHandler,
  ValidatorSetView,
} from "./types.ts";
import { type BlockWithCertificate, DecodeError, type Status } from "./wire.ts";

export type P2pModules = {
  logger?: Logger;
  metrics?: Metrics;
  /** Which addresses are validators now; asked on every lookup, so set changes apply at once. */
  validators?: ValidatorSetView;
  /** Serves `status` heads and `blocks-by-range`; without it the head is genesis and sync is not served. */
  blocks?: BlockSource;
  clock?: Clock;
};

type PeerRecord = {
  peerId: PeerId;
  addr: string;
  direction: "inbound" | "outbound";
  address: Hex | undefined;
  state: PeerState;
  headHeight: bigint | undefined;
  connectedAt: number;
  /** Set when the remote's status, seen in its own request, showed another chain. */
  mismatch: string | undefined;
  ready: Promise<void>;
  markReady: () => void;
  markRefused: (err: Error) => void;
};

const EMPTY = new Uint8Array(0);

function toPeerId(peer: PeerId | string): PeerId {
  return typeof peer === "string" ? peerIdFromString(peer) : peer;
}

/**
 * A dseq node's libp2p host: TCP + Noise + Yamux, identify, ping, gossipsub (StrictNoSign,
 * content-hash ids, async validation with peer scoring), the status handshake that refuses
 * other chains, request/response protocols, static-peer redialing and bans.
 */
export class P2pHost {
  readonly events: EventBus<P2pEvents>;
  /** This node's peer id. */
  readonly peerId: string;
  /** This node's validator address (from its sequencer key). */
  readonly address: Hex;
  readonly opts: P2pOptions;

  private readonly node: Libp2p<Services>;
  private readonly pubsub: GossipSubRouter;
  private readonly log: Logger;
  private readonly metrics: P2pMetrics | undefined;
  private readonly validators: ValidatorSetView | undefined;
  private readonly blocks: BlockSource | undefined;
  private readonly clock: Clock;
  private readonly table = new Map<string, PeerRecord>();
  private readonly banned = new Map<string, number>();
  private readonly penalties = new Map<string, number[]>();
  private readonly gossip: GossipTopics;
  private readonly redialer: Redialer;
  private readonly stopController = new AbortController();
  private timers: NodeJS.Timeout[] = [];
  private running = false;

  private constructor(
    opts: P2pOptions,
    node: Libp2p<Services>,
    modules: P2pModules,
    banned: Map<string, number>,
  ) {
    this.opts = opts;
    this.node = node;
    this.banned = banned;
    this.pubsub = node.services.pubsub as GossipSubRouter;
    this.peerId = node.peerId.toString();
    this.address = peerIdToAddress(node.peerId) as Hex;
    this.log = (modules.logger ?? createNoopLogger()).child({ module: "p2p" });
    this.metrics = modules.metrics ? createP2pMetrics(modules.metrics) : undefined;
    this.validators = modules.validators;
    this.blocks = modules.blocks;
    this.clock = modules.clock ?? realClock;
    this.events = new EventBus<P2pEvents>({ name: "p2p", logger: this.log });
    this.gossip = new GossipTopics(opts, {
      pubsub: this.pubsub,
      metrics: this.metrics,
      log: this.log,
      clock: this.clock,
      validatorOf: (peer) => this.validatorOf(peer),
      onReject: (peer) => this.onGossipReject(peer),
    });
    this.redialer = new Redialer(opts, {
      dial: (addr) =>
        this.node.dial(addr, {
          signal: AbortSignal.any([AbortSignal.timeout(opts.dialTimeoutMs), this.stopController.signal]),
        }),
      isConnected: (peerId) => this.table.has(peerId) || peerId === this.peerId,
      connectedCount: () => this.table.size,
      bannedUntil: (peerId) => (this.isBanned(peerId) ? this.banned.get(peerId) : undefined),
      clock: this.clock,
      log: this.log,
    });
  }

  /** Builds the host (not started). The key is checked here; a bad config fails now, not on first use. */
  static async create(input: P2pOptionsInput, modules: P2pModules = {}): Promise<P2pHost> {
    const opts = resolveP2pOptions(input);
    if (opts.genesisHash.length !== 32)
      throw new P2pError(P2pErrorCode.BadConfig, "genesisHash must be 32 bytes");
    if (opts.maxBlocksPerRequest < 1 || opts.maxBlocksPerRequest > MAX_BLOCKS_PER_REQUEST) {
      throw new P2pError(P2pErrorCode.BadConfig, `maxBlocksPerRequest must be 1..${MAX_BLOCKS_PER_REQUEST}`);
    }
    const itemBytes = opts.maxBlockBytes + opts.maxCertificateBytes + BLOCK_ITEM_OVERHEAD;
    if (
      !Number.isSafeInteger(opts.maxBlockBytes) ||
      !Number.isSafeInteger(opts.maxCertificateBytes) ||
      opts.maxBlockBytes < 1 ||
      opts.maxCertificateBytes < 1 ||
      itemBytes > BlocksByRangeProtocol.maxResponseChunkBytes
    ) {
      throw new P2pError(
        P2pErrorCode.BadConfig,
        `maxBlockBytes + maxCertificateBytes must be positive and fit ${BlocksByRangeProtocol.maxResponseChunkBytes - BLOCK_ITEM_OVERHEAD} bytes`,
      );
    }
    const banned = new Map<string, number>();
    const clock = modules.clock ?? realClock;
    const node = await createLibp2pNode(opts, (peer) => {
      const until = banned.get(peer.toString());
      return until !== undefined && until > clock.now();
    });
    return new P2pHost(opts, node, { ...modules, clock }, banned);
  }

  /** The underlying libp2p node, for diagnostics and fault injection; the typed API above is the contract. */
  get libp2p(): Libp2p {
    return this.node;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts listening and dialing. A stopped host cannot be started again: create a new one. */
  async start(): Promise<void> {
    if (this.running) return;
    if (this.stopController.signal.aborted) {
      throw new P2pError(P2pErrorCode.Stopped, "a stopped p2p host cannot be restarted; create a new one");
    }
    const n = this.node;
    n.addEventListener("peer:connect", (e) => this.onPeerConnect(e.detail));
    n.addEventListener("peer:disconnect", (e) => this.onPeerDisconnect(e.detail));
    this.pubsub.addEventListener("gossipsub:heartbeat", () => this.checkScores());
    await n.handle(
      protocolId(StatusProtocol),
      (stream, conn) => this.onInbound(stream, conn, StatusProtocol, this.serveStatus),
      {
        maxInboundStreams: 8,
      },
    );
    if (this.blocks) {
      const blocks = this.blocks;
      await this.handle(BlocksByRangeProtocol, (req) => this.serveBlocks(blocks, req.from, req.count));
    }
    await n.start();
    this.running = true;
    this.gossip.start();
    const tick = Math.max(50, Math.min(this.opts.reconnect.initialDelayMs, 1_000));
    this.timers.push(setInterval(() => this.redialer.tick(this.stopController.signal), tick));
    this.timers.push(setInterval(() => this.refreshStatuses(), this.opts.statusIntervalMs));
    for (const t of this.timers) t.unref();
    this.redialer.tick(this.stopController.signal);
    this.log.info("p2p started", { peerId: this.peerId, address: this.address, addrs: this.multiaddrs() });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopController.abort(new P2pError(P2pErrorCode.Stopped, "p2p host is stopped"));
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.gossip.stop();
    await this.node.stop();
    this.table.clear();
    this.updatePeerGauge();
    this.log.info("p2p stopped", { peerId: this.peerId });
  }

  /** Listen addresses with `/p2p/<peer id>`, ready to hand to another node's config. */
  multiaddrs(): string[] {
    return this.node.getMultiaddrs().map((m) => m.toString());
  }

  // ---------------------------------------------------------------- peers

  /** The peer table: connected peers with address, validator binding, latency and score. */
  peers(): PeerInfo[] {
    return [...this.table.values()].map((r) => this.peerInfo(r));
  }

  peer(peer: PeerId | string): PeerInfo | undefined {
    const r = this.table.get(peer.toString());
    return r ? this.peerInfo(r) : undefined;
  }

  /** Peers past the status handshake (same chain and genesis). */
  readyPeers(): string[] {
    return [...this.table.values()].filter((r) => r.state === "ready").map((r) => r.peerId.toString());
  }

  /** The validator address of a peer, or undefined when the peer is not in the validator set. */
  validatorOf(peer: PeerId | string): Hex | undefined {
    const address = this.table.get(peer.toString())?.address ?? peerIdToAddress(peer);
    return address !== undefined && this.validators?.has(address) ? address : undefined;
  }

  /** The connected peer that speaks for a validator address. */
  peerOfValidator(address: Hex): string | undefined {
    const a = address.toLowerCase();
    for (const r of this.table.values()) if (r.address === a) return r.peerId.toString();
    return undefined;
  }

  /** Gossipsub's score of a peer as this node sees it (kept for a while after disconnect). */
  score(peer: PeerId | string): number {
    return this.pubsub.getScore(peer.toString());
  }

  isBanned(peer: PeerId | string): boolean {
    const id = peer.toString();
    const until = this.banned.get(id);
    if (until === undefined) return false;
    if (until <= this.clock.now()) {
      this.banned.delete(id);
      return false;
    }
    return true;
  }

  async dial(addr: string): Promise<string> {
    const conn = await this.node.dial(multiaddr(addr), {
      signal: AbortSignal.timeout(this.opts.dialTimeoutMs),
    });
    return conn.remotePeer.toString();
  }

  /** Disconnects a peer and keeps it off (dials and inbound connections refused) for `ms`. */
  ban(peer: PeerId | string, reason: string, ms = this.opts.banMs): void {
    const id = toPeerId(peer);
    const untilMs = this.clock.now() + ms;
    const key = id.toString();
    const was = this.isBanned(key);
    this.banned.set(key, Math.max(untilMs, this.banned.get(key) ?? 0));
    this.table.get(key)?.markRefused(new P2pError(P2pErrorCode.PeerBanned, `peer banned: ${reason}`));
    if (!was) {
      this.metrics?.bans.inc({ reason });
      this.log.warn("peer banned", { peer: key, reason, ms });
      this.events.emit("p2p.peer.banned", { peerId: key, reason, untilMs });
    }
    void this.node.hangUp(id).catch(() => undefined);
  }

  /** Records misbehaviour; `maxPenalties` within `penaltyWindowMs` bans the peer. */
  penalize(peer: PeerId | string, reason: string): void {
    const key = peer.toString();
    this.metrics?.peerPenalties.inc({ reason });
    const now = this.clock.now();
    const list = (this.penalties.get(key) ?? []).filter((t) => t > now - this.opts.penaltyWindowMs);
    list.push(now);
    this.penalties.set(key, list);
    if (list.length >= this.opts.maxPenalties) this.ban(peer, "penalties");
  }

  /** Penalties recorded against a peer within the last `penaltyWindowMs` (the ban counter). */
  penaltyCount(peer: PeerId | string): number {
    const now = this.clock.now();
    return (this.penalties.get(peer.toString()) ?? []).filter((t) => t > now - this.opts.penaltyWindowMs)
      .length;
  }

  private peerInfo(r: PeerRecord): PeerInfo {
    const id = r.peerId.toString();
    return {
      peerId: id,
      addr: r.addr,
      direction: r.direction,
      address: r.address,
      publicKey: peerIdToPublicKey(r.peerId),
      isValidator: r.address !== undefined && this.validators?.has(r.address) === true,
      state: r.state,
      latencyMs: this.node.getConnections(r.peerId)[0]?.rtt,
      score: this.pubsub.getScore(id),
      headHeight: r.headHeight,
      connectedAt: r.connectedAt,
    };
  }

  private onPeerConnect(peerId: PeerId): void {
    const key = peerId.toString();
    if (this.isBanned(key) || !this.makeRoomFor(key)) {
      void this.node.hangUp(peerId).catch(() => undefined);
      return;
    }
    const conn: Connection | undefined = this.node.getConnections(peerId)[0];
    let markReady = (): void => {};
    let markRefused = (_: Error): void => {};
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      markRefused = reject;
    });
    ready.catch(() => undefined);
    const rec: PeerRecord = {
      peerId,
      addr: conn?.remoteAddr.toString() ?? "",
      direction: conn?.direction ?? "inbound",
      address: peerIdToAddress(peerId),
      state: "handshaking",
      headHeight: undefined,
      connectedAt: this.clock.now(),
      mismatch: undefined,
      ready,
      markReady,
      markRefused,
    };
    this.table.set(key, rec);
    this.updatePeerGauge();
    this.redialer.onConnected(key);
    // Keep static peers when the connection manager prunes.
    if (this.redialer.isStatic(key)) {
      void this.node.peerStore
        .merge(peerId, { tags: { "dseq-static": { value: 100 } } })
        .catch(() => undefined);
    }
    this.events.emit("p2p.peer.connected", {
      peerId: key,
      address: rec.address,
      isValidator: rec.address !== undefined && this.validators?.has(rec.address) === true,
      direction: rec.direction,
    });
    void this.handshake(rec);
  }

  /**
   * libp2p checks `maxConnections` only when accepting (racing with pending upgrades) and never
   * prunes connections that carry gossip streams, so the limit is enforced here. Static peers and
   * validators always get in, evicting the newest other peer if there is one.
   */
  private makeRoomFor(key: string): boolean {
    if (this.table.size < this.opts.maxConnections) return true;
    const privileged = (id: string): boolean =>
      this.redialer.isStatic(id) || this.validatorOf(id) !== undefined;
    if (!privileged(key)) {
      this.metrics?.refused.inc({ reason: "max_connections" });
      return false;
    }
    const victim = [...this.table.values()]
      .filter((r) => !privileged(r.peerId.toString()))
      .sort((x, y) => y.connectedAt - x.connectedAt)[0];
    if (victim) void this.node.hangUp(victim.peerId).catch(() => undefined);
    return true;
  }

  private onPeerDisconnect(peerId: PeerId): void {
    const key = peerId.toString();
    const rec = this.table.get(key);
    if (!rec) return;
    rec.markRefused(new P2pError(P2pErrorCode.PeerGone, "peer disconnected"));
    this.table.delete(key);
    this.updatePeerGauge();
    this.redialer.onDisconnected(key);
    this.events.emit("p2p.peer.disconnected", { peerId: key });
  }

  private updatePeerGauge(): void {
    if (!this.metrics) return;
    let validators = 0;
    for (const r of this.table.values()) if (r.address && this.validators?.has(r.address)) validators++;
    this.metrics.peers.set(validators, { kind: "validator" });
    this.metrics.peers.set(this.table.size - validators, { kind: "other" });
  }

  /** On every gossipsub heartbeat: ban graylisted peers, forget expired bans and old penalties. */
  private checkScores(): void {
    const threshold = this.opts.gossip.graylistThreshold;
    for (const key of this.table.keys()) {
      if (this.pubsub.getScore(key) < threshold) this.ban(key, "low_score");
    }
    const now = this.clock.now();
    for (const [key, until] of this.banned) if (until <= now) this.banned.delete(key);
    for (const [key, times] of this.penalties) {
      if ((times[times.length - 1] ?? 0) <= now - this.opts.penaltyWindowMs) this.penalties.delete(key);
    }
  }

  // ---------------------------------------------------------------- status handshake

  private async localStatus(): Promise<Status> {
    const head = this.blocks ? await this.blocks.head() : { height: 0n, hash: this.opts.genesisHash };
    return {
      chainId: this.opts.chainId,
      genesisHash: this.opts.genesisHash,
      headHeight: head.height,
      headHash: head.hash,
    };
  }

  private mismatch(s: Status): string | undefined {
    if (s.chainId !== this.opts.chainId) return "chain_id";
    if (!equalBytes(s.genesisHash, this.opts.genesisHash)) return "genesis";
    return undefined;
  }

  /** Hangs up on a peer that failed the handshake; another chain is also kept off for `refuseMs`. */
  private refuse(rec: PeerRecord | undefined, peer: PeerId, reason: string, keepOff = true): void {
    const key = peer.toString();
    rec?.markRefused(new P2pError(P2pErrorCode.PeerRefused, `peer refused: ${reason}`));
    if (!this.isBanned(key)) {
      this.metrics?.refused.inc({ reason });
      this.log.warn("peer refused", { peer: key, reason });
      this.events.emit("p2p.peer.refused", { peerId: key, reason });
    }
    if (keepOff)
      this.banned.set(key, Math.max(this.clock.now() + this.opts.refuseMs, this.banned.get(key) ?? 0));
    void this.node.hangUp(peer).catch(() => undefined);
  }

  private async handshake(rec: PeerRecord): Promise<void> {
    try {
      const [remote] = await this.requestUnchecked(rec.peerId, StatusProtocol, await this.localStatus());
      if (!remote) throw new P2pError(P2pErrorCode.Handshake, "empty status response");
      const reason = this.mismatch(remote);
      if (reason) return this.refuse(rec, rec.peerId, reason);
      if (this.table.get(rec.peerId.toString()) !== rec) return;
      rec.state = "ready";
      rec.headHeight = remote.headHeight;
      rec.markReady();
      this.events.emit("p2p.peer.ready", { peerId: rec.peerId.toString(), headHeight: remote.headHeight });
    } catch (err) {
      // A peer that left mid-handshake is not refused; one that cannot answer status is.
      if (this.table.get(rec.peerId.toString()) !== rec || !this.running) return;
      this.log.debug("status handshake failed", { peer: rec.peerId.toString(), err: errorMessage(err) });
      // If its request already showed another chain, that is the reason, not our failed request.
      if (rec.mismatch) return this.refuse(rec, rec.peerId, rec.mismatch);
      // A failed exchange may be transient (a full peer hanging up): drop it, count it, no ban.
      this.penalize(rec.peerId, "handshake_failed");
      this.refuse(rec, rec.peerId, "handshake_failed", false);
    }
  }

  /** Asks every ready peer for its status again; a head that moved is announced. */
  private refreshStatuses(): void {
    for (const rec of this.table.values()) {
      if (rec.state !== "ready") continue;
      void this.localStatus()
        .then((local) => this.requestUnchecked(rec.peerId, StatusProtocol, local))
        .then(([remote]) => {
          if (!remote || this.table.get(rec.peerId.toString()) !== rec) return;
          const reason = this.mismatch(remote);
          if (reason) return this.refuse(rec, rec.peerId, reason);
          if (remote.headHeight !== rec.headHeight) {
            rec.headHeight = remote.headHeight;
            this.events.emit("p2p.peer.head", {
              peerId: rec.peerId.toString(),
              headHeight: remote.headHeight,
            });
          }
        })
        .catch((err: unknown) =>
          this.log.debug("status refresh failed", { peer: rec.peerId.toString(), err: errorMessage(err) }),
        );
    }
  }

  private readonly serveStatus: RequestHandler<Status, Status> = async (remote, ctx) => {
    const reason = this.mismatch(remote);
    if (reason) {
      const rec = this.table.get(ctx.peer);
      if (rec) rec.mismatch = reason;
      // Answer first so the remote learns why, then drop it.
      setTimeout(() => this.refuse(this.table.get(ctx.peer), peerIdFromString(ctx.peer), reason), 50).unref();
    }
    return [await this.localStatus()];
  };

  /** Resolves true once the peer passed the handshake; false if refused, gone or too slow. */
  private async waitReady(peer: PeerId): Promise<boolean> {
    const rec = this.table.get(peer.toString());
    if (!rec) return false;
    if (rec.state === "ready") return true;
    try {
      await withTimeout(rec.ready, StatusProtocol.timeoutMs, "status handshake");
      return true;
    } catch {
      return false;
    }
  }

  // ---------------------------------------------------------------- request/response

  /** Serves a protocol. Requests from peers that have not passed the status handshake are refused. */
  async handle<Req, Resp>(spec: ProtocolSpec<Req, Resp>, handler: RequestHandler<Req, Resp>): Promise<void> {
    await this.node.handle(protocolId(spec), (stream, conn) => this.onInbound(stream, conn, spec, handler), {
      maxInboundStreams: 32,
    });
  }

  async unhandle(spec: AnyProtocolSpec): Promise<void> {
    await this.node.unhandle(protocolId(spec));
  }

  private async onInbound<Req, Resp>(
    stream: Stream,
    conn: Connection,
    spec: ProtocolSpec<Req, Resp>,
    handler: RequestHandler<Req, Resp>,
  ): Promise<void> {
    const peer = conn.remotePeer;
    if (spec !== StatusProtocol && !(await this.waitReady(peer))) {
      stream.abort(new P2pError(P2pErrorCode.PeerNotReady, "status handshake not passed"));
      this.metrics?.requestsIn.inc({ protocol: spec.name, result: "not_ready" });
      return;
    }
    const result = await serveRequest(
      stream,
      spec,
      handler,
      { peer: peer.toString(), validator: this.validatorOf(peer) },
      (req) => this.responseBudget(spec, req),
    );
    this.metrics?.requestsIn.inc({ protocol: spec.name, result });
    if (result === "bad_frame" || result === "invalid_request") {
      this.log.debug("bad request", { peer: peer.toString(), protocol: spec.name, result });
      this.penalize(peer, `${spec.name}_${result}`);
    }
  }

  /**
   * Sends one request and returns the responses. Throws DseqError codes P2P_DIAL, TIMEOUT,
   * P2P_RESPONSE_ERROR, P2P_FRAME_*, P2P_DECODE, P2P_PEER_NOT_READY.
   */
  async request<Req, Resp>(
    peer: PeerId | string,
    spec: ProtocolSpec<Req, Resp>,
    req: Req,
    opts: { signal?: AbortSignal } = {},
  ): Promise<Resp[]> {
    const id = toPeerId(peer);
    if (!(await this.waitReady(id))) {
      throw new P2pError(
        P2pErrorCode.PeerNotReady,
        "peer is not connected or has not passed the status handshake",
        {
          details: { peer: id.toString() },
        },
      );
    }
    return this.requestUnchecked(id, spec, req, opts.signal);
  }

  /**
   * What an answer to `req` may hold. A blocks-by-range answer is bounded by what was asked
   * (`count` blocks of at most `maxBlockBytes`), not by the protocol's 64 x 16 MiB ceiling.
   */
  responseBudget<Req, Resp>(spec: ProtocolSpec<Req, Resp>, req: Req): ResponseBudget {
    if (spec.name === BlocksByRangeProtocol.name) {
      const { count } = req as { count: number };
      return blocksByRangeBudget(count, this.opts);
    }
    return protocolBudget(spec);
  }

  private async requestUnchecked<Req, Resp>(
    peer: PeerId,
    spec: ProtocolSpec<Req, Resp>,
    req: Req,
    signal?: AbortSignal,
  ): Promise<Resp[]> {
    const timeout = AbortSignal.timeout(spec.timeoutMs);
    const all = AbortSignal.any([timeout, this.stopController.signal, ...(signal ? [signal] : [])]);
    const started = performance.now();
    const observe = (result: string): void =>
      this.metrics?.requestSeconds.observe((performance.now() - started) / 1000, {
        protocol: spec.name,
        result,
      });
    let stream: Stream;
    try {
      stream = await this.node.dialProtocol(peer, protocolId(spec), { signal: all });
    } catch (err) {
      observe("dial_error");
      throw new P2pError(P2pErrorCode.Dial, `cannot open ${spec.name} stream`, {
        cause: err,
        details: { peer: peer.toString() },
      });
    }
    try {
      const out = await runRequest(stream, spec, req, all, timeout, this.responseBudget(spec, req));
      observe("ok");
      return out;
    } catch (err) {
      if (err instanceof FrameError || err instanceof DecodeError) {
        observe("bad_response");
        this.penalize(peer, `${spec.name}_bad_response`);
      } else {
        observe(err instanceof DseqError ? err.code.toLowerCase() : "error");
      }
      throw err;
    }
  }

  /** Asks a peer for its status. */
  async status(peer: PeerId | string): Promise<Status> {
    const [s] = await this.request(peer, StatusProtocol, await this.localStatus());
    if (!s) throw new P2pError(P2pErrorCode.Decode, "empty status response");
    return s;
  }

  /**
   * Fetches `count` blocks from `from`, one bounded request (at most MAX_BLOCKS_PER_REQUEST) at a
   * time, checking that heights follow on. Stops early when the peer has no more.
   */
  async *blocksByRange(
    peer: PeerId | string,
    from: bigint,
    count: number,
  ): AsyncGenerator<BlockWithCertificate> {
    let next = from;
    let remaining = count;
    while (remaining > 0) {
      const ask = Math.min(remaining, MAX_BLOCKS_PER_REQUEST);
      const got = await this.request(peer, BlocksByRangeProtocol, { from: next, count: ask });
      if (got.length === 0) return;
      if (got.length > ask) {
        this.penalize(peer, "blocks_by_range_too_many");
        throw new P2pError(P2pErrorCode.BadResponse, "blocks-by-range answered more blocks than asked", {
          details: { asked: ask, got: got.length },
        });
      }
      for (const b of got) {
        if (b.height !== next) {
          this.penalize(peer, "blocks_by_range_bad_height");
          throw new P2pError(P2pErrorCode.BadResponse, "blocks-by-range answered out of order", {
            details: { expected: next, got: b.height },
          });
        }
        yield b;
        next++;
        remaining--;
      }
    }
  }

  private async serveBlocks(
    source: BlockSource,
    from: bigint,
    count: number,
  ): Promise<BlockWithCertificate[]> {
    if (count < 1 || count > MAX_BLOCKS_PER_REQUEST) {
      throw new RequestError(ResultCode.InvalidRequest, `count must be 1..${MAX_BLOCKS_PER_REQUEST}`);
    }
    const blocks = await source.getRange(from, Math.min(count, this.opts.maxBlocksPerRequest));
    return blocks.slice(0, count);
  }

  /** Sends a direct TSS message; resolves when the remote acknowledged it. */
  async sendDirect(
    peer: PeerId | string,
    payload: Uint8Array,
    opts: { signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.request(peer, TssDirectProtocol, payload, opts);
  }

  /** Receives direct TSS messages (one handler). */
  async onDirect(handler: (payload: Uint8Array, from: MessageSource) => void): Promise<void> {
    await this.handle(TssDirectProtocol, (payload, ctx) => {
      handler(payload, { peer: ctx.peer, validator: ctx.validator });
      return [EMPTY];
    });
  }

  // ---------------------------------------------------------------- gossip

  /** The full topic name of a topic kind on this chain. */
  topic(kind: TopicKind): string {
    return this.gossip.topic(kind);
  }

  /** Peers known to be subscribed to a topic. */
  topicPeers(kind: TopicKind): string[] {
    return this.pubsub.getSubscribers(this.topic(kind)).map((p) => p.toString());
  }

  /** Peers in our gossipsub mesh for a topic (those we forward full messages to). */
  meshPeers(kind: TopicKind): string[] {
    return this.pubsub.getMeshPeers(this.topic(kind));
  }

  /** Subscribes to a topic (before or after start); returns a function that unsubscribes. One handler per topic. */
  subscribe<T>(kind: TopicKind, handler: TopicHandler<T>): () => void {
    return this.gossip.subscribe(kind, handler);
  }

  /**
   * Publishes opaque bytes on a topic through the self-throttling queue; resolves with the number
   * of peers it was sent to. Consensus and TSS topics go ahead of transactions.
   */
  publish(kind: TopicKind, data: Uint8Array): Promise<number> {
    return this.gossip.publish(kind, data);
  }

  private onGossipReject(peer: string): void {
    this.penalize(peer, "gossip_reject");
    if (this.table.has(peer) && this.pubsub.getScore(peer) < this.opts.gossip.graylistThreshold) {
      this.ban(peer, "low_score");
    }
  }
}

/** `new`-free entry point: builds and starts a host. */
export async function createP2pHost(opts: P2pOptionsInput, modules: P2pModules = {}): Promise<P2pHost> {
  const host = await P2pHost.create(opts, modules);
  await host.start();
  return host;
}
