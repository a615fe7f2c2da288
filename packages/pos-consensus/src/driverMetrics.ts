import type { CounterMetric, GaugeMetric, HistogramMetric, Metrics } from "@dseq/common";

export type DriverMetrics = {
  height: GaugeMetric;
  round: GaugeMetric;
  queue: GaugeMetric;
  dropped: CounterMetric;
  rejected: CounterMetric<"reason">;
  ignored: CounterMetric<"reason">;
  walSkipped: CounterMetric<"reason">;
  catchUpRejected: CounterMetric;
  futureBytes: GaugeMetric;
  evidence: CounterMetric<"type">;
  refused: CounterMetric;
  commits: CounterMetric;
  heightSeconds: HistogramMetric;
};

/** The driver's metrics, `dseq_consensus_*`. */
export function createDriverMetrics(metrics: Metrics): DriverMetrics {
  return {
    height: metrics.gauge({ name: "dseq_consensus_height", help: "height being decided" }),
    round: metrics.gauge({ name: "dseq_consensus_round", help: "round of the current height" }),
    queue: metrics.gauge({ name: "dseq_consensus_queue_inputs", help: "network inputs waiting" }),
    dropped: metrics.counter({
      name: "dseq_consensus_inputs_dropped_total",
      help: "network inputs dropped because the queue was full (oldest first)",
    }),
    rejected: metrics.counter({
      name: "dseq_consensus_messages_rejected_total",
      help: "consensus messages rejected",
      labelNames: ["reason"],
    }),
    ignored: metrics.counter({
      name: "dseq_consensus_messages_ignored_total",
      help: "consensus messages not taken (copies, stale, too far ahead, buffer full)",
      labelNames: ["reason"],
    }),
    walSkipped: metrics.counter({
      name: "dseq_consensus_wal_records_skipped_total",
      help: "WAL records skipped on replay (undecodable, or the state machine refused them)",
      labelNames: ["reason"],
    }),
    catchUpRejected: metrics.counter({
      name: "dseq_consensus_catchup_rejected_total",
      help: "catch-up answers that failed verification",
    }),
    futureBytes: metrics.gauge({
      name: "dseq_consensus_future_buffer_bytes",
      help: "bytes of next-height messages buffered",
    }),
    evidence: metrics.counter({
      name: "dseq_consensus_evidence_total",
      help: "equivocation evidence recorded",
      labelNames: ["type"],
    }),
    refused: metrics.counter({
      name: "dseq_consensus_sign_refused_total",
      help: "signatures refused by the double-sign guard",
    }),
    commits: metrics.counter({ name: "dseq_consensus_commits_total", help: "heights committed" }),
    heightSeconds: metrics.histogram({
      name: "dseq_consensus_height_seconds",
      help: "time from a height's start to its commit",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30],
    }),
  };
}
