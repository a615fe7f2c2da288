import type { CounterMetric, GaugeMetric, HistogramMetric, Metrics } from "@dseq/common";

export type P2pMetrics = {
  peers: GaugeMetric<"kind">;
  messagesIn: CounterMetric<"topic" | "result">;
  bytesIn: CounterMetric<"topic">;
  messagesOut: CounterMetric<"topic">;
  bytesOut: CounterMetric<"topic">;
  rejects: CounterMetric<"topic" | "reason">;
  dropped: CounterMetric<"topic" | "reason">;
  publishQueued: GaugeMetric;
  requestSeconds: HistogramMetric<"protocol" | "result">;
  requestsIn: CounterMetric<"protocol" | "result">;
  peerPenalties: CounterMetric<"reason">;
  bans: CounterMetric<"reason">;
  refused: CounterMetric<"reason">;
};

/** Topic labels are the topic kind (tx, proposal, vote, tss), never the full name: bounded cardinality. */
export function createP2pMetrics(metrics: Metrics): P2pMetrics {
  return {
    peers: metrics.gauge({ name: "dseq_p2p_peers", help: "connected peers", labelNames: ["kind"] }),
    messagesIn: metrics.counter({
      name: "dseq_p2p_gossip_messages_in_total",
      help: "gossip messages received, by validation result",
      labelNames: ["topic", "result"],
    }),
    bytesIn: metrics.counter({
      name: "dseq_p2p_gossip_in_bytes_total",
      help: "gossip bytes received",
      labelNames: ["topic"],
    }),
    messagesOut: metrics.counter({
      name: "dseq_p2p_gossip_messages_out_total",
      help: "gossip messages published",
      labelNames: ["topic"],
    }),
    bytesOut: metrics.counter({
      name: "dseq_p2p_gossip_out_bytes_total",
      help: "gossip bytes published",
      labelNames: ["topic"],
    }),
    rejects: metrics.counter({
      name: "dseq_p2p_gossip_rejects_total",
      help: "gossip messages rejected",
      labelNames: ["topic", "reason"],
    }),
    dropped: metrics.counter({
      name: "dseq_p2p_gossip_dropped_total",
      help: "gossip messages dropped unvalidated (queue full)",
      labelNames: ["topic", "reason"],
    }),
    publishQueued: metrics.gauge({
      name: "dseq_p2p_publish_queued_messages",
      help: "messages waiting to be published",
    }),
    requestSeconds: metrics.histogram({
      name: "dseq_p2p_request_seconds",
      help: "outbound request latency",
      labelNames: ["protocol", "result"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    }),
    requestsIn: metrics.counter({
      name: "dseq_p2p_requests_in_total",
      help: "inbound requests served, by result",
      labelNames: ["protocol", "result"],
    }),
    peerPenalties: metrics.counter({
      name: "dseq_p2p_peer_penalties_total",
      help: "misbehaviour recorded against peers",
      labelNames: ["reason"],
    }),
    bans: metrics.counter({
      name: "dseq_p2p_peer_bans_total",
      help: "peers disconnected and banned",
      labelNames: ["reason"],
    }),
    refused: metrics.counter({
      name: "dseq_p2p_peer_refused_total",
      help: "peers refused at the status handshake",
      labelNames: ["reason"],
    }),
  };
}
