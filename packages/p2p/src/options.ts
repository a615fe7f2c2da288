import { P2pError, P2pErrorCode } from "./errors.ts";
import { BLOCK_ITEM_OVERHEAD, BlocksByRangeProtocol, MAX_BLOCKS_PER_REQUEST } from "./protocols.ts";
import { defaultPublishThrottleOptions, type PublishThrottleOptions } from "./publishQueue.ts";
import { defaultTopicLimits, type TopicKind } from "./topics.ts";

export type GossipOptions = {
  heartbeatIntervalMs: number;
  D: number;
  Dlo: number;
  Dhi: number;
  /** Weight of P4 (invalid deliveries); the penalty is weight * rejects^2, decaying. */
  invalidMessageWeight: number;
  /** Per `decayIntervalMs`: how much of the invalid-delivery counter survives. */
  invalidMessageDecay: number;
  decayIntervalMs: number;
  gossipThreshold: number;
  publishThreshold: number;
  /** Below this gossipsub ignores the peer; we also disconnect and ban it here. */
  graylistThreshold: number;
  /** Messages waiting for validation per topic; beyond it new ones are ignored (and counted). */
  maxPendingValidations: number;
};

export const defaultGossipOptions: GossipOptions = {
  heartbeatIntervalMs: 700,
  D: 6,
  Dlo: 4,
  Dhi: 12,
  invalidMessageWeight: -10,
  invalidMessageDecay: 0.97,
  decayIntervalMs: 1_000,
  gossipThreshold: -20,
  publishThreshold: -40,
  graylistThreshold: -80,
  maxPendingValidations: 1_024,
};

export type ReconnectOptions = { initialDelayMs: number; maxDelayMs: number; factor: number };

export type P2pOptions = {
  /** The 32-byte secp256k1 sequencer key: it is the libp2p identity. Never logged. */
  privateKey: Uint8Array;
  chainId: bigint;
  genesisHash: Uint8Array;
  /** Listen multiaddrs. */
  listen: string[];
  /** Multiaddrs with `/p2p/<id>`, kept connected: redialed with backoff whenever they drop. */
  staticPeers: string[];
  /** Dialed at start and whenever fewer than `minPeers` are connected. */
  bootstrap: string[];
  minPeers: number;
  maxConnections: number;
  maxIncomingPendingConnections: number;
  /** Inbound connections accepted per second from one IP (devnets run every node on 127.0.0.1). */
  inboundConnectionThreshold: number;
  dialTimeoutMs: number;
  reconnect: ReconnectOptions;
  topicLimits: Record<TopicKind, number>;
  gossip: GossipOptions;
  publish: PublishThrottleOptions;
  /** Misbehaviour (bad frames, rejects) counted per peer in `penaltyWindowMs`; at the limit it is banned. */
  maxPenalties: number;
  penaltyWindowMs: number;
  banMs: number;
  /** How long a peer refused at the handshake (other chain) is kept off. */
  refuseMs: number;
  pingIntervalMs: number;
  /** How often ready peers are asked for their status again, keeping their heads current. */
  statusIntervalMs: number;
  /** Cap on blocks served per blocks-by-range request (never above the protocol's cap). */
  maxBlocksPerRequest: number;
  /**
   * Largest block (its serialized bytes) served or accepted in a blocks-by-range answer. It must
   * be at least the chain's largest block; with it, an answer to `count` blocks is at most
   * `count * (maxBlockBytes + maxCertificateBytes + 32)` bytes. ADR 0044.
   */
  maxBlockBytes: number;
  /**
   * Largest commit certificate (opaque bytes) in a blocks-by-range answer: pos-consensus's own
   * cap (`MAX_CERTIFICATE_BYTES`, 10,000 signatures), so every certificate consensus accepts
   * can be synced.
   */
  maxCertificateBytes: number;
};

export const defaultP2pOptions: Omit<P2pOptions, "privateKey" | "chainId" | "genesisHash"> = {
  listen: ["/ip4/127.0.0.1/tcp/0"],
  staticPeers: [],
  bootstrap: [],
  minPeers: 4,
  maxConnections: 64,
  maxIncomingPendingConnections: 16,
  inboundConnectionThreshold: 16,
  dialTimeoutMs: 5_000,
  reconnect: { initialDelayMs: 250, maxDelayMs: 30_000, factor: 2 },
  topicLimits: defaultTopicLimits,
  gossip: defaultGossipOptions,
  publish: defaultPublishThrottleOptions,
  maxPenalties: 20,
  penaltyWindowMs: 60_000,
  banMs: 10 * 60_000,
  refuseMs: 10 * 60_000,
  pingIntervalMs: 10_000,
  statusIntervalMs: 10_000,
  maxBlocksPerRequest: 64,
  maxBlockBytes: 2 * 1024 * 1024,
  maxCertificateBytes: 1024 * 1024,
};

export type P2pOptionsInput = Pick<P2pOptions, "privateKey" | "chainId" | "genesisHash"> &
  Partial<Omit<P2pOptions, "gossip" | "publish" | "reconnect" | "topicLimits">> & {
    gossip?: Partial<GossipOptions>;
    publish?: Partial<PublishThrottleOptions>;
    reconnect?: Partial<ReconnectOptions>;
    topicLimits?: Partial<Record<TopicKind, number>>;
  };

export function resolveP2pOptions(input: P2pOptionsInput): P2pOptions {
  const d = defaultP2pOptions;
  return {
    ...d,
    ...input,
    gossip: { ...d.gossip, ...input.gossip },
    publish: { ...d.publish, ...input.publish },
    reconnect: { ...d.reconnect, ...input.reconnect },
    topicLimits: { ...d.topicLimits, ...input.topicLimits },
  };
}

/** Refuses options that cannot work, at create time rather than on first use. */
export function checkP2pOptions(opts: P2pOptions): void {
  const { BadConfig } = P2pErrorCode;
  if (opts.genesisHash.length !== 32) throw new P2pError(BadConfig, "genesisHash must be 32 bytes");
  if (opts.maxBlocksPerRequest < 1 || opts.maxBlocksPerRequest > MAX_BLOCKS_PER_REQUEST) {
    throw new P2pError(BadConfig, `maxBlocksPerRequest must be 1..${MAX_BLOCKS_PER_REQUEST}`);
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
      BadConfig,
      `maxBlockBytes + maxCertificateBytes must be positive and fit ${BlocksByRangeProtocol.maxResponseChunkBytes - BLOCK_ITEM_OVERHEAD} bytes`,
    );
  }
}
