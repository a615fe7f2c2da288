import {
  type Clock,
  createNoopLogger,
  EventBus,
  type Hex,
  type Logger,
  type Metrics,
  realClock,
} from "@dseq/common";
import type { Connection, Libp2p, PeerId, Stream } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { P2pError, P2pErrorCode } from "./errors.ts";
import { GossipTopics } from "./gossip.ts";
import { peerIdToAddress } from "./identity.ts";
import { createLibp2pNode, type GossipSubRouter, type Services } from "./libp2pNode.ts";
import { checkP2pOptions, type P2pOptions, type P2pOptionsInput, resolveP2pOptions } from "./options.ts";
import { createP2pMetrics, type P2pMetrics } from "./p2pMetrics.ts";
import { PeerTable } from "./peerTable.ts";
import {
  type AnyProtocolSpec,
  BlocksByRangeProtocol,
  type ProtocolSpec,
  protocolId,
  type ResponseBudget,
  StatusProtocol,
  TssDirectProtocol,
} from "./protocols.ts";
import { Redialer } from "./redialer.ts";
import type { RequestHandler } from "./reqresp.ts";
import {
  fetchBlocksByRange,
  type RequestsContext,
  responseBudgetFor,
  sendRequest,
  serveBlocks,
  serveInbound,
} from "./requests.ts";
import {
  handshake,
  localStatus,
  refreshStatuses,
  type StatusContext,
  statusHandler,
  waitReady,
} from "./statusHandshake.ts";
import type { TopicKind } from "./topics.ts";
import type {
  BlockSource,
  MessageSource,
  P2pEvents,
  PeerInfo,
  TopicHandler,
  ValidatorSetView,
} from "./types.ts";
import type { BlockWithCertificate, Status } from "./wire.ts";

export type P2pModules = {
  logger?: Logger;
  metrics?: Metrics;
  /** Which addresses are validators now; asked on every lookup, so set changes apply at once. */
  validators?: ValidatorSetView;
  /** Serves `status` heads and `blocks-by-range`; without it the head is genesis and sync is not served. */
  blocks?: BlockSource;
  clock?: Clock;
};

const EMPTY = new Uint8Array(0);

function toPeerId(peer: PeerId | string): PeerId {
  return typeof peer === "string" ? peerIdFromString(peer) : peer;
}

/**
 * A dseq node's libp2p host: TCP + Noise + Yamux, identify, ping, gossipsub (StrictNoSign,
 * content-hash ids, async validation with peer scoring), the status handshake that refuses
 * other chains, request/response protocols, static-peer redialing and bans. The concerns live
 * in their own files: the peer table, bans and penalties (peerTable.ts), the status handshake
 * (statusHandshake.ts), request/response (requests.ts, reqresp.ts), gossip (gossip.ts),
 * redialing (redialer.ts); this class wires them and is the API.
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
  private readonly blocks: BlockSource | undefined;
  private readonly clock: Clock;
  private readonly table: PeerTable;
  private readonly gossip: GossipTopics;
  private readonly redialer: Redialer;
  private readonly stopController = new AbortController();
  private readonly statusCtx: StatusContext;
  private readonly requestsCtx: RequestsContext;
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
    this.pubsub = node.services.pubsub as GossipSubRouter;
    this.peerId = node.peerId.toString();
    this.address = peerIdToAddress(node.peerId) as Hex;
    this.log = (modules.logger ?? createNoopLogger()).child({ module: "p2p" });
    this.metrics = modules.metrics ? createP2pMetrics(modules.metrics) : undefined;
    this.blocks = modules.blocks;
    this.clock = modules.clock ?? realClock;
    this.events = new EventBus<P2pEvents>({ name: "p2p", logger: this.log });
    const hangUp = (peer: PeerId): void => void this.node.hangUp(peer).catch(() => undefined);
    const penalize = (peer: PeerId | string, reason: string): void => this.penalize(peer, reason);
    this.table = new PeerTable({
      opts,
      clock: this.clock,
      log: this.log,
      metrics: this.metrics,
      events: this.events,
      validators: modules.validators,
      banned,
      hangUp,
      score: (peer) => this.pubsub.getScore(peer),
      rtt: (peer) => this.node.getConnections(peer)[0]?.rtt,
      isStatic: (peer) => this.redialer.isStatic(peer),
    });
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
      bannedUntil: (peerId) => this.table.bannedUntil(peerId),
      clock: this.clock,
      log: this.log,
    });
    this.requestsCtx = {
      opts,
      node: this.node,
      peers: this.table,
      log: this.log,
      metrics: this.metrics,
      stopSignal: this.stopController.signal,
      penalize,
    };
    this.statusCtx = {
      opts,
      blocks: this.blocks,
      peers: this.table,
      log: this.log,
      metrics: this.metrics,
      events: this.events,
      now: () => this.clock.now(),
      running: () => this.running,
      hangUp,
      penalize,
      exchange: (peer, local) => sendRequest(this.requestsCtx, peer, StatusProtocol, local),
    };
  }

  /** Builds the host (not started). The key is checked here; a bad config fails now, not on first use. */
  static async create(input: P2pOptionsInput, modules: P2pModules = {}): Promise<P2pHost> {
    const opts = resolveP2pOptions(input);
    checkP2pOptions(opts);
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
    const serveStatus = statusHandler(this.statusCtx);
    await n.handle(
      protocolId(StatusProtocol),
      (stream, conn) => this.onInbound(stream, conn, StatusProtocol, serveStatus),
      {
        maxInboundStreams: 8,
      },
    );
    if (this.blocks) {
      const blocks = this.blocks;
      await this.handle(BlocksByRangeProtocol, (req) => serveBlocks(this.opts, blocks, req.from, req.count));
    }
    await n.start();
    this.running = true;
    this.gossip.start();
    const tick = Math.max(50, Math.min(this.opts.reconnect.initialDelayMs, 1_000));
    this.timers.push(setInterval(() => this.redialer.tick(this.stopController.signal), tick));
    this.timers.push(setInterval(() => refreshStatuses(this.statusCtx), this.opts.statusIntervalMs));
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
    this.log.info("p2p stopped", { peerId: this.peerId });
  }

  /** Listen addresses with `/p2p/<peer id>`, ready to hand to another node's config. */
  multiaddrs(): string[] {
    return this.node.getMultiaddrs().map((addr) => addr.toString());
  }

  // ---------------------------------------------------------------- peers

  /** The peer table: connected peers with address, validator binding, latency and score. */
  peers(): PeerInfo[] {
    return [...this.table.values()].map((r) => this.table.info(r));
  }

  peer(peer: PeerId | string): PeerInfo | undefined {
    const r = this.table.get(peer.toString());
    return r ? this.table.info(r) : undefined;
  }

  /** Peers past the status handshake (same chain and genesis). */
  readyPeers(): string[] {
    return [...this.table.values()].filter((r) => r.state === "ready").map((r) => r.peerId.toString());
  }

  /** The validator address of a peer, or undefined when the peer is not in the validator set. */
  validatorOf(peer: PeerId | string): Hex | undefined {
    return this.table.validatorOf(peer);
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
    return this.table.isBanned(peer);
  }

  async dial(addr: string): Promise<string> {
    const conn = await this.node.dial(multiaddr(addr), {
      signal: AbortSignal.timeout(this.opts.dialTimeoutMs),
    });
    return conn.remotePeer.toString();
  }

  /** Disconnects a peer and keeps it off (dials and inbound connections refused) for `ms`. */
  ban(peer: PeerId | string, reason: string, ms = this.opts.banMs): void {
    this.table.ban(toPeerId(peer), reason, ms);
  }

  /** Records misbehaviour; `maxPenalties` within `penaltyWindowMs` bans the peer. */
  penalize(peer: PeerId | string, reason: string): void {
    if (this.table.penalize(peer.toString(), reason)) this.ban(peer, "penalties");
  }

  /** Penalties recorded against a peer within the last `penaltyWindowMs` (the ban counter). */
  penaltyCount(peer: PeerId | string): number {
    return this.table.penaltyCount(peer.toString());
  }

  private onPeerConnect(peerId: PeerId): void {
    const key = peerId.toString();
    if (this.table.isBanned(key) || !this.table.makeRoomFor(key)) {
      void this.node.hangUp(peerId).catch(() => undefined);
      return;
    }
    const rec = this.table.add(peerId, this.node.getConnections(peerId)[0] as Connection | undefined);
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
      isValidator: this.table.isValidator(rec),
      direction: rec.direction,
    });
    void handshake(this.statusCtx, rec);
  }

  private onPeerDisconnect(peerId: PeerId): void {
    const key = peerId.toString();
    if (!this.table.remove(key)) return;
    this.redialer.onDisconnected(key);
    this.events.emit("p2p.peer.disconnected", { peerId: key });
  }

  /** On every gossipsub heartbeat: ban graylisted peers, forget expired bans and old penalties. */
  private checkScores(): void {
    for (const key of this.table.graylisted()) this.ban(key, "low_score");
    this.table.sweep();
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

  private onInbound<Req, Resp>(
    stream: Stream,
    conn: Connection,
    spec: ProtocolSpec<Req, Resp>,
    handler: RequestHandler<Req, Resp>,
  ): Promise<void> {
    return serveInbound(this.requestsCtx, stream, conn, spec, handler);
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
    if (!(await waitReady(this.table, id))) {
      throw new P2pError(
        P2pErrorCode.PeerNotReady,
        "peer is not connected or has not passed the status handshake",
        {
          details: { peer: id.toString() },
        },
      );
    }
    return sendRequest(this.requestsCtx, id, spec, req, opts.signal);
  }

  /**
   * What an answer to `req` may hold. A blocks-by-range answer is bounded by what was asked
   * (`count` blocks of at most `maxBlockBytes`), not by the protocol's 64 x 16 MiB ceiling.
   */
  responseBudget<Req, Resp>(spec: ProtocolSpec<Req, Resp>, req: Req): ResponseBudget {
    return responseBudgetFor(this.opts, spec, req);
  }

  /** Asks a peer for its status. */
  async status(peer: PeerId | string): Promise<Status> {
    const [s] = await this.request(peer, StatusProtocol, await localStatus(this.statusCtx));
    if (!s) throw new P2pError(P2pErrorCode.Decode, "empty status response");
    return s;
  }

  /**
   * Fetches `count` blocks from `from`, one bounded request (at most MAX_BLOCKS_PER_REQUEST) at a
   * time, checking that heights follow on. Stops early when the peer has no more.
   */
  blocksByRange(peer: PeerId | string, from: bigint, count: number): AsyncGenerator<BlockWithCertificate> {
    const request = (req: { from: bigint; count: number }) => this.request(peer, BlocksByRangeProtocol, req);
    return fetchBlocksByRange(this.requestsCtx, request, peer, from, count);
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
