import type { CounterMetric, GaugeMetric, Metrics } from "@dseq/common";

export type PoolMetrics = {
  pending: GaugeMetric;
  queued: GaugeMetric;
  added: CounterMetric<"local">;
  rejected: CounterMetric<"code">;
  removed: CounterMetric<"reason">;
  demoted: CounterMetric;
};

export function createPoolMetrics(m: Metrics): PoolMetrics {
  return {
    pending: m.gauge({
      name: "dseq_txpool_pending_transactions",
      help: "executable transactions in the pool",
    }),
    queued: m.gauge({ name: "dseq_txpool_queued_transactions", help: "future transactions in the pool" }),
    added: m.counter({
      name: "dseq_txpool_added_total",
      help: "transactions admitted",
      labelNames: ["local"],
    }),
    rejected: m.counter({
      name: "dseq_txpool_rejected_total",
      help: "transactions refused at admission",
      labelNames: ["code"],
    }),
    removed: m.counter({
      name: "dseq_txpool_removed_total",
      help: "transactions removed from the pool",
      labelNames: ["reason"],
    }),
    demoted: m.counter({
      name: "dseq_txpool_demoted_total",
      help: "pending transactions moved back to queued",
    }),
  };
}
