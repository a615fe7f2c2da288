import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { type GossipSub, gossipsub, StrictNoSign, type TopicValidatorResult } from "@libp2p/gossipsub";
import { createTopicScoreParams } from "@libp2p/gossipsub/score";
import { type Identify, identify } from "@libp2p/identify";
import type { Libp2p, PeerId, Stream } from "@libp2p/interface";
import { type Ping, ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { createLibp2p } from "libp2p";
import { sequencerKeyToPrivateKey } from "./identity.ts";
import type { P2pOptions } from "./options.ts";
import { messageId, messageIdToString, TOPIC_KINDS, topicName } from "./topics.ts";

/** The parts of the gossipsub router we use beyond its public interface type (ADR 0040). */
export type GossipSubRouter = GossipSub & {
  reportMessageValidationResult(
    msgId: string,
    propagationSource: string,
    acceptance: TopicValidatorResult,
  ): void;
  getScore(peerId: string): number;
  getMeshPeers(topic: string): string[];
  streamsOutbound: Map<string, { rawStream: Stream }>;
};

export type Services = { identify: Identify; ping: Ping; pubsub: GossipSub };

const EMPTY = new Uint8Array(0);

/**
 * Builds (does not start) the libp2p node: TCP + Noise + Yamux, identify, ping, and gossipsub
 * with StrictNoSign, content-hash ids, async validation and the score parameters of ADR 0041.
 */
export async function createLibp2pNode(
  opts: P2pOptions,
  isBanned: (peer: PeerId) => boolean,
): Promise<Libp2p<Services>> {
  const g = opts.gossip;
  const maxTopicBytes = Math.max(...Object.values(opts.topicLimits));
  const topics = TOPIC_KINDS.map((k) => topicName(opts.chainId, k));
  // msgIdFn and fastMsgIdFn see the same data array; hash it once.
  const idCache = new WeakMap<Uint8Array, { topic: string; id: Uint8Array }>();
  const idOf = (topic: string, data: Uint8Array): Uint8Array => {
    const hit = idCache.get(data);
    if (hit && hit.topic === topic) return hit.id;
    const id = messageId(topic, data);
    idCache.set(data, { topic, id });
    return id;
  };
  const topicScore = createTopicScoreParams({
    topicWeight: 1,
    timeInMeshWeight: 0.01,
    timeInMeshQuantum: 1_000,
    timeInMeshCap: 300,
    firstMessageDeliveriesWeight: 0.1,
    firstMessageDeliveriesDecay: 0.9,
    firstMessageDeliveriesCap: 50,
    // Consensus traffic is bursty and small (a few votes per 2 s): a delivery quota would
    // penalise honest peers, so P3/P3b stay off; P4 (invalid messages) carries the weight.
    meshMessageDeliveriesWeight: 0,
    meshFailurePenaltyWeight: 0,
    invalidMessageDeliveriesWeight: g.invalidMessageWeight,
    invalidMessageDeliveriesDecay: g.invalidMessageDecay,
  });
  return createLibp2p<Services>({
    start: false,
    privateKey: sequencerKeyToPrivateKey(opts.privateKey),
    addresses: { listen: opts.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: {
      denyDialPeer: isBanned,
      denyInboundEncryptedConnection: isBanned,
      denyOutboundEncryptedConnection: isBanned,
    },
    // libp2p's monitor pings every peer and keeps the round-trip time on the connection (the
    // peer table's latency). A missed ping under load must not cut a validator off: dead links
    // are found by yamux keep-alive and TCP instead.
    connectionMonitor: { pingInterval: opts.pingIntervalMs, abortConnectionOnPingFailure: false },
    connectionManager: {
      maxConnections: opts.maxConnections,
      maxIncomingPendingConnections: opts.maxIncomingPendingConnections,
      inboundConnectionThreshold: opts.inboundConnectionThreshold,
      dialTimeout: opts.dialTimeoutMs,
      // Our own redialer keeps static peers connected, forever and with backoff.
      reconnectRetries: 0,
    },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        globalSignaturePolicy: StrictNoSign,
        msgIdFn: (msg) => idOf(msg.topic, msg.data),
        fastMsgIdFn: (rpc) => messageIdToString(idOf(rpc.topic, rpc.data ?? EMPTY)),
        msgIdToStrFn: messageIdToString,
        asyncValidation: true,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        doPX: false,
        heartbeatInterval: g.heartbeatIntervalMs,
        D: g.D,
        Dlo: g.Dlo,
        Dhi: g.Dhi,
        allowedTopics: topics,
        maxInboundDataLength: maxTopicBytes + 64 * 1024,
        maxOutboundBufferSize: 8 * maxTopicBytes + 16 * 1024 * 1024,
        scoreParams: {
          topics: Object.fromEntries(topics.map((t) => [t, topicScore])),
          topicScoreCap: 10,
          appSpecificWeight: 0,
          // Validators may share hosts (and devnets share 127.0.0.1): no IP colocation penalty.
          IPColocationFactorWeight: 0,
          decayInterval: g.decayIntervalMs,
          decayToZero: 0.01,
        },
        scoreThresholds: {
          gossipThreshold: g.gossipThreshold,
          publishThreshold: g.publishThreshold,
          graylistThreshold: g.graylistThreshold,
          acceptPXThreshold: 100,
          opportunisticGraftThreshold: 5,
        },
      }),
    },
  });
}
