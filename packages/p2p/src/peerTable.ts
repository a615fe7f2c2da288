import type { Clock, EventBus, Hex, Logger } from "@dseq/common";
import type { Connection, PeerId } from "@libp2p/interface";
import { P2pError, P2pErrorCode } from "./errors.ts";
import { peerIdToAddress, peerIdToPublicKey } from "./identity.ts";
import type { P2pOptions } from "./options.ts";
import type { P2pMetrics } from "./p2pMetrics.ts";
import type { P2pEvents, PeerInfo, PeerState, ValidatorSetView } from "./types.ts";

export type PeerRecord = {
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

export type PeerTableContext = {
  readonly opts: Pick<
    P2pOptions,
    "banMs" | "penaltyWindowMs" | "maxPenalties" | "maxConnections" | "refuseMs" | "gossip"
  >;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: P2pMetrics | undefined;
  readonly events: EventBus<P2pEvents>;
  readonly validators: ValidatorSetView | undefined;
  /** Peer id -> banned until (ms); shared with the connection gater built before the host. */
  readonly banned: Map<string, number>;
  hangUp(peer: PeerId): void;
  /** Gossipsub's score of a peer. */
  score(peer: string): number;
  /** Round-trip time of the peer's first connection. */
  rtt(peer: PeerId): number | undefined;
  /** A configured static peer (always let in, redialed). */
  isStatic(peer: string): boolean;
};

/**
 * The connected peers and how this node judges them: the table of records, bans (with expiry),
 * penalties counted in a window, the connection limit with room kept for static peers and
 * validators, and the peer gauge.
 */
export class PeerTable {
  private readonly ctx: PeerTableContext;
  private readonly records = new Map<string, PeerRecord>();
  private readonly penalties = new Map<string, number[]>();

  constructor(ctx: PeerTableContext) {
    this.ctx = ctx;
  }

  get size(): number {
    return this.records.size;
  }

  get(peer: string): PeerRecord | undefined {
    return this.records.get(peer);
  }

  has(peer: string): boolean {
    return this.records.has(peer);
  }

  values(): IterableIterator<PeerRecord> {
    return this.records.values();
  }

  keys(): IterableIterator<string> {
    return this.records.keys();
  }

  /** A new record, handshaking, for a peer that just connected (`conn` its first connection). */
  add(peerId: PeerId, conn: Connection | undefined): PeerRecord {
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
      connectedAt: this.ctx.clock.now(),
      mismatch: undefined,
      ready,
      markReady,
      markRefused,
    };
    this.records.set(peerId.toString(), rec);
    this.updateGauge();
    return rec;
  }

  /** The peer left: a call waiting on its handshake fails. False when it was not in the table. */
  remove(peer: string): boolean {
    const rec = this.records.get(peer);
    if (!rec) return false;
    rec.markRefused(new P2pError(P2pErrorCode.PeerGone, "peer disconnected"));
    this.records.delete(peer);
    this.updateGauge();
    return true;
  }

  clear(): void {
    this.records.clear();
    this.updateGauge();
  }

  /** The validator address of a peer, or undefined when the peer is not in the validator set. */
  validatorOf(peer: PeerId | string): Hex | undefined {
    const address = this.records.get(peer.toString())?.address ?? peerIdToAddress(peer);
    return address !== undefined && this.ctx.validators?.has(address) ? address : undefined;
  }

  isValidator(rec: PeerRecord): boolean {
    return rec.address !== undefined && this.ctx.validators?.has(rec.address) === true;
  }

  info(rec: PeerRecord): PeerInfo {
    const id = rec.peerId.toString();
    return {
      peerId: id,
      addr: rec.addr,
      direction: rec.direction,
      address: rec.address,
      publicKey: peerIdToPublicKey(rec.peerId),
      isValidator: this.isValidator(rec),
      state: rec.state,
      latencyMs: this.ctx.rtt(rec.peerId),
      score: this.ctx.score(id),
      headHeight: rec.headHeight,
      connectedAt: rec.connectedAt,
    };
  }

  isBanned(peer: PeerId | string): boolean {
    const id = peer.toString();
    const until = this.ctx.banned.get(id);
    if (until === undefined) return false;
    if (until <= this.ctx.clock.now()) {
      this.ctx.banned.delete(id);
      return false;
    }
    return true;
  }

  bannedUntil(peer: string): number | undefined {
    return this.isBanned(peer) ? this.ctx.banned.get(peer) : undefined;
  }

  /** Keeps a peer off until at least `untilMs` (a ban or a refusal). */
  keepOff(peer: string, untilMs: number): void {
    this.ctx.banned.set(peer, Math.max(untilMs, this.ctx.banned.get(peer) ?? 0));
  }

  /** Disconnects a peer and keeps it off (dials and inbound connections refused) for `ms`. */
  ban(id: PeerId, reason: string, ms: number): void {
    const { ctx } = this;
    const untilMs = ctx.clock.now() + ms;
    const key = id.toString();
    const was = this.isBanned(key);
    this.keepOff(key, untilMs);
    this.records.get(key)?.markRefused(new P2pError(P2pErrorCode.PeerBanned, `peer banned: ${reason}`));
    if (!was) {
      ctx.metrics?.bans.inc({ reason });
      ctx.log.warn("peer banned", { peer: key, reason, ms });
      ctx.events.emit("p2p.peer.banned", { peerId: key, reason, untilMs });
    }
    ctx.hangUp(id);
  }

  /** Records misbehaviour; true when the peer reached `maxPenalties` within `penaltyWindowMs`. */
  penalize(peer: string, reason: string): boolean {
    const { opts } = this.ctx;
    this.ctx.metrics?.peerPenalties.inc({ reason });
    const now = this.ctx.clock.now();
    const list = (this.penalties.get(peer) ?? []).filter((t) => t > now - opts.penaltyWindowMs);
    list.push(now);
    this.penalties.set(peer, list);
    return list.length >= opts.maxPenalties;
  }

  /** Penalties recorded against a peer within the last `penaltyWindowMs` (the ban counter). */
  penaltyCount(peer: string): number {
    const now = this.ctx.clock.now();
    return (this.penalties.get(peer) ?? []).filter((t) => t > now - this.ctx.opts.penaltyWindowMs).length;
  }

  /** Connected peers whose gossipsub score fell under the graylist threshold. */
  graylisted(): string[] {
    const threshold = this.ctx.opts.gossip.graylistThreshold;
    return [...this.records.keys()].filter((key) => this.ctx.score(key) < threshold);
  }

  /** Forgets expired bans and penalties older than the window. */
  sweep(): void {
    const now = this.ctx.clock.now();
    for (const [key, until] of this.ctx.banned) if (until <= now) this.ctx.banned.delete(key);
    for (const [key, times] of this.penalties) {
      if ((times[times.length - 1] ?? 0) <= now - this.ctx.opts.penaltyWindowMs) this.penalties.delete(key);
    }
  }

  /**
   * libp2p checks `maxConnections` only when accepting (racing with pending upgrades) and never
   * prunes connections that carry gossip streams, so the limit is enforced here. Static peers and
   * validators always get in, evicting the newest other peer if there is one.
   */
  makeRoomFor(key: string): boolean {
    const { ctx } = this;
    if (this.records.size < ctx.opts.maxConnections) return true;
    const privileged = (id: string): boolean => ctx.isStatic(id) || this.validatorOf(id) !== undefined;
    if (!privileged(key)) {
      ctx.metrics?.refused.inc({ reason: "max_connections" });
      return false;
    }
    const victim = [...this.records.values()]
      .filter((r) => !privileged(r.peerId.toString()))
      .sort((x, y) => y.connectedAt - x.connectedAt)[0];
    if (victim) ctx.hangUp(victim.peerId);
    return true;
  }

  private updateGauge(): void {
    const { metrics, validators } = this.ctx;
    if (!metrics) return;
    let count = 0;
    for (const r of this.records.values()) if (r.address && validators?.has(r.address)) count++;
    metrics.peers.set(count, { kind: "validator" });
    metrics.peers.set(this.records.size - count, { kind: "other" });
  }
}
