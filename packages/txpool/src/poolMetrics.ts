import type { CounterMetric, GaugeMetric, Metrics } from "@dseq/common";

export type PoolMetrics = {
  pending: GaugeMetric;
  queued: GaugeMetric;
  added: CounterMetric<"local">;
  rejected: CounterMetric<"code">;
  removed: CounterMetric<"reason">;
  demoted: CounterMetric;
};

export function createPoolMetrics(registry: Metrics): PoolMetrics {
  return {
    pending: registry.gauge({
      name: "dseq_txpool_pending_transactions",
      help: "executable transactions in the pool",
    }),
    queued: registry.gauge({
      name: "dseq_txpool_queued_transactions",
      help: "future transactions in the pool",
    }),
    added: registry.counter({
      name: "dseq_txpool_added_total",
      help: "transactions admitted",
      labelNames: ["local"],
    }),
    rejected: registry.counter({
      name: "dseq_txpool_rejected_total",
      help: "transactions refused at admission",
      labelNames: ["code"],
    }),
    removed: registry.counter({
      name: "dseq_txpool_removed_total",
      help: "transactions removed from the pool",
      labelNames: ["reason"],
    }),
    demoted: registry.counter({
      name: "dseq_txpool_demoted_total",
      help: "pending transactions moved back to queued",
    }),
  };
}
