import {
  bytesToHex,
  concatBytes,
  type Hex,
  hexToBytes,
  type Logger,
  type Metrics,
  uintToBytes,
  utf8ToBytes,
} from "@dseq/common";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { peerIdToPublicKey, publicKeyToPeerId } from "./identity.ts";
import type { TopicKind } from "./topics.ts";
import type { MessageSource, TopicHandler } from "./types.ts";

/**
 * mpc-tss's `TssTransport` on the node's network (structurally the same interface: p2p does
 * not import mpc-tss). A party is named by its compressed secp256k1 key, which is also the key
 * the libp2p peer id is made from, so:
 * - direct messages go over `tss_direct` to the peer of that key; Noise authenticated the
 *   stream, so the remote peer's key is the sender;
 * - broadcasts go over the `tss` gossip topic, which is StrictNoSign (the relaying peer is not
 *   the author), inside an envelope signed by the author's key, bound to the chain id and a
 *   send time (stale or far-future envelopes are dropped);
 * - anything from a party outside `members` is dropped, and each author has an inbound budget
 *   (messages and bytes per second), so one member cannot flood the sessions; the number of
 *   signing sessions one coordinator may hold open is mpc-tss's `Signer` option
 *   `maxSessionsPerCoordinator`, which the node sets: the transport cannot read sessions.
 */
export type TssTransportMessage = { from: Hex; data: Uint8Array };

export interface TssP2pTransport {
  readonly self: Hex;
  broadcast(data: Uint8Array): void;
  send(to: Hex, data: Uint8Array): void;
  subscribe(handler: (msg: TssTransportMessage) => void): () => void;
  /** Replaces the set of parties whose messages are delivered (the validator set's keys). */
  setMembers(members: readonly Hex[]): void;
  readonly members: ReadonlySet<Hex>;
  readonly stats: TssTransportStats;
  stop(): void;
}

export type TssTransportStats = {
  delivered: number;
  dropped: Record<TssDropReason, number>;
};

export const TssDropReason = {
  NotMember: "not_member",
  BadEnvelope: "bad_envelope",
  BadSignature: "bad_signature",
  Stale: "stale",
  RateLimited: "rate_limited",
  OutboundFull: "outbound_full",
  SendFailed: "send_failed",
  WrongChain: "wrong_chain",
} as const;
export type TssDropReason = (typeof TssDropReason)[keyof typeof TssDropReason];

export type TssTransportOptions = {
  chainId: bigint;
  /** Parties whose messages are delivered; `setMembers` replaces it. */
  members: readonly Hex[];
  /** Envelopes older than this (by their author's clock) are dropped. */
  maxAgeMs: number;
  /** Envelopes stamped further ahead than this are dropped. */
  maxClockSkewMs: number;
  /** Per author: sustained messages per second, and the burst. */
  messagesPerSecond: number;
  messageBurst: number;
  /** Per author: sustained bytes per second (the burst is two seconds' worth). */
  bytesPerSecond: number;
  /** Direct sends waiting for an ack, per recipient; more are dropped (the sessions resend). */
  maxInflightPerPeer: number;
};

export const defaultTssTransportOptions: Omit<TssTransportOptions, "chainId" | "members"> = {
  maxAgeMs: 120_000,
  maxClockSkewMs: 30_000,
  messagesPerSecond: 200,
  messageBurst: 400,
  bytesPerSecond: 4 * 1024 * 1024,
  maxInflightPerPeer: 32,
};

/** What the transport uses of the host (a `P2pHost` has all of it). */
export type TssHost = {
  sendDirect(peer: string, payload: Uint8Array): Promise<void>;
  onDirect(handler: (payload: Uint8Array, from: MessageSource) => void): Promise<void>;
  subscribe<T>(kind: TopicKind, handler: TopicHandler<T>): () => void;
  publish(kind: TopicKind, data: Uint8Array): Promise<number>;
};

export type TssTransportModules = {
  host: TssHost;
  /** The node's sequencer key (the libp2p host's key): it signs our broadcast envelopes. */
  privateKey: Uint8Array;
  logger?: Logger;
  metrics?: Metrics;
  now?: () => number;
};

const ENVELOPE_VERSION = 1;
const DOMAIN = utf8ToBytes("dseq/p2p/tss-broadcast/v1");
/** version(1) || author(33) || chainId(8) || sentAtMs(8) || signature(64) || data */
const HEADER_BYTES = 1 + 33 + 8 + 8 + 64;

export type TssEnvelope = {
  author: Hex;
  chainId: bigint;
  sentAtMs: number;
  signature: Uint8Array;
  data: Uint8Array;
};

function signedPart(author: Uint8Array, chainId: bigint, sentAtMs: number, data: Uint8Array): Uint8Array {
  return concatBytes(DOMAIN, author, uintToBytes(chainId, 8), uintToBytes(BigInt(sentAtMs), 8), data);
}

/** An author-signed broadcast envelope. */
export function encodeTssEnvelope(
  privateKey: Uint8Array,
  chainId: bigint,
  sentAtMs: number,
  data: Uint8Array,
): Uint8Array {
  const author = secp256k1.getPublicKey(privateKey, true);
  const signature = secp256k1.sign(signedPart(author, chainId, sentAtMs, data), privateKey);
  return concatBytes(
    new Uint8Array([ENVELOPE_VERSION]),
    author,
    uintToBytes(chainId, 8),
    uintToBytes(BigInt(sentAtMs), 8),
    signature,
    data,
  );
}

/** Parses an envelope (throws on a malformed one); does not check the signature. */
export function decodeTssEnvelope(bytes: Uint8Array): TssEnvelope {
  if (bytes.length < HEADER_BYTES || bytes[0] !== ENVELOPE_VERSION) throw new Error("bad tss envelope");
  const author = bytes.subarray(1, 34);
  if (author[0] !== 2 && author[0] !== 3) throw new Error("bad tss envelope author");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chainId = view.getBigUint64(34);
  const sentAt = view.getBigUint64(42);
  if (sentAt > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error("bad tss envelope time");
  return {
    author: bytesToHex(author),
    chainId,
    sentAtMs: Number(sentAt),
    signature: bytes.slice(50, 114),
    data: bytes.slice(HEADER_BYTES),
  };
}

export function verifyTssEnvelope(env: TssEnvelope): boolean {
  try {
    const author = hexToBytes(env.author);
    return secp256k1.verify(env.signature, signedPart(author, env.chainId, env.sentAtMs, env.data), author);
  } catch {
    return false;
  }
}

type Bucket = { msgs: number; bytes: number; at: number };

export async function createTssTransport(
  input: Pick<TssTransportOptions, "chainId" | "members"> & Partial<TssTransportOptions>,
  modules: TssTransportModules,
): Promise<TssP2pTransport> {
  const opts: TssTransportOptions = { ...defaultTssTransportOptions, ...input };
  const { host, privateKey, logger } = modules;
  const now = modules.now ?? Date.now;
  const selfBytes = secp256k1.getPublicKey(privateKey, true);
  const self = bytesToHex(selfBytes);
  let members = new Set<Hex>(input.members.map((m) => m.toLowerCase() as Hex));
  const handlers = new Set<(msg: TssTransportMessage) => void>();
  const buckets = new Map<Hex, Bucket>();
  const inflight = new Map<Hex, number>();
  const peerIds = new Map<Hex, string>();
  const dropped = Object.fromEntries(Object.values(TssDropReason).map((r) => [r, 0])) as Record<
    TssDropReason,
    number
  >;
  const stats: TssTransportStats = { delivered: 0, dropped };
  const pending = new Set<NodeJS.Immediate>();
  let stopped = false;

  const droppedMetric = modules.metrics?.counter({
    name: "dseq_p2p_tss_dropped_total",
    help: "TSS messages dropped by the transport",
    labelNames: ["reason"],
  });
  const deliveredMetric = modules.metrics?.counter({
    name: "dseq_p2p_tss_delivered_total",
    help: "TSS messages delivered to the sessions",
    labelNames: ["kind"],
  });

  const drop = (reason: TssDropReason, ctx: Record<string, unknown>): void => {
    dropped[reason]++;
    droppedMetric?.inc({ reason });
    logger?.debug("tss message dropped", { reason, ...ctx });
  };

  const withinBudget = (author: Hex, size: number): boolean => {
    const t = now();
    const b = buckets.get(author) ?? { msgs: opts.messageBurst, bytes: 2 * opts.bytesPerSecond, at: t };
    const dt = Math.max(0, t - b.at) / 1000;
    b.msgs = Math.min(opts.messageBurst, b.msgs + dt * opts.messagesPerSecond);
    b.bytes = Math.min(2 * opts.bytesPerSecond, b.bytes + dt * opts.bytesPerSecond);
    b.at = t;
    buckets.set(author, b);
    if (b.msgs < 1 || b.bytes < size) return false;
    b.msgs -= 1;
    b.bytes -= size;
    return true;
  };

  const deliver = (from: Hex, data: Uint8Array, kind: "direct" | "broadcast"): void => {
    if (stopped) return;
    stats.delivered++;
    deliveredMetric?.inc({ kind });
    for (const h of handlers) {
      try {
        h({ from, data });
      } catch (err) {
        logger?.warn("tss handler threw", { err: String(err) });
      }
    }
  };

  const admit = (from: Hex, size: number, ctx: Record<string, unknown>): boolean => {
    if (!members.has(from)) {
      drop(TssDropReason.NotMember, { from, ...ctx });
      return false;
    }
    if (!withinBudget(from, size)) {
      drop(TssDropReason.RateLimited, { from, ...ctx });
      return false;
    }
    return true;
  };

  await host.onDirect((payload, src) => {
    const from = peerPartyId(src.peer);
    if (from === undefined) return drop(TssDropReason.BadEnvelope, { peer: src.peer });
    if (admit(from, payload.length, { kind: "direct" })) deliver(from, payload, "direct");
  });

  const unsubscribe = host.subscribe<TssEnvelope>("tss", {
    decode: decodeTssEnvelope,
    validate: (env, src) => {
      if (env.chainId !== opts.chainId) {
        drop(TssDropReason.WrongChain, { peer: src.peer });
        return "reject";
      }
      // A relay validates before forwarding, so a bad signature is the relay's fault too.
      if (!verifyTssEnvelope(env)) {
        drop(TssDropReason.BadSignature, { peer: src.peer });
        return "reject";
      }
      const t = now();
      if (env.sentAtMs < t - opts.maxAgeMs || env.sentAtMs > t + opts.maxClockSkewMs) {
        drop(TssDropReason.Stale, { author: env.author, sentAtMs: env.sentAtMs });
        return "ignore";
      }
      // Membership views differ for a moment around a validator-set change: ignore, not reject.
      if (env.author === self || !admit(env.author, env.data.length, { kind: "broadcast" })) return "ignore";
      return "accept";
    },
    onMessage: (env) => deliver(env.author, env.data, "broadcast"),
  });

  const peerOf = (to: Hex): string => {
    let p = peerIds.get(to);
    if (p === undefined) {
      p = publicKeyToPeerId(hexToBytes(to)).toString();
      peerIds.set(to, p);
    }
    return p;
  };

  return {
    self,
    get members() {
      return members;
    },
    stats,
    broadcast(data) {
      if (stopped) return;
      const env = encodeTssEnvelope(privateKey, opts.chainId, now(), data);
      host
        .publish("tss", env)
        .catch((err) => drop(TssDropReason.SendFailed, { kind: "broadcast", err: String(err) }));
    },
    send(to, data) {
      if (stopped) return;
      const id = to.toLowerCase() as Hex;
      if (id === self) {
        const copy = data.slice();
        const t = setImmediate(() => {
          pending.delete(t);
          deliver(self, copy, "direct");
        });
        pending.add(t);
        return;
      }
      const n = inflight.get(id) ?? 0;
      if (n >= opts.maxInflightPerPeer) return drop(TssDropReason.OutboundFull, { to: id });
      let peer: string;
      try {
        peer = peerOf(id);
      } catch {
        return drop(TssDropReason.BadEnvelope, { to: id });
      }
      inflight.set(id, n + 1);
      host
        .sendDirect(peer, data)
        .catch((err) => drop(TssDropReason.SendFailed, { kind: "direct", to: id, err: String(err) }))
        .finally(() => {
          const left = (inflight.get(id) ?? 1) - 1;
          if (left <= 0) inflight.delete(id);
          else inflight.set(id, left);
        });
    },
    subscribe(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    setMembers(list) {
      members = new Set(list.map((m) => m.toLowerCase() as Hex));
      for (const k of buckets.keys()) if (!members.has(k)) buckets.delete(k);
    },
    stop() {
      stopped = true;
      unsubscribe();
      for (const t of pending) clearImmediate(t);
      pending.clear();
      handlers.clear();
    },
  };
}

/** The party id (compressed key) of a secp256k1 peer id, or undefined. */
function peerPartyId(peer: string): Hex | undefined {
  const key = peerIdToKey(peer);
  return key === undefined ? undefined : (bytesToHex(key) as Hex);
}

function peerIdToKey(peer: string): Uint8Array | undefined {
  const hex = peerIdToPublicKey(peer);
  if (hex === undefined) return undefined;
  const raw = hexToBytes(hex);
  if (raw.length === 33) return raw;
  try {
    return secp256k1.Point.fromBytes(raw).toBytes(true);
  } catch {
    return undefined;
  }
}
