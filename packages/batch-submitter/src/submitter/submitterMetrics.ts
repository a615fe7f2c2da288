import type { CounterMetric, GaugeMetric, HistogramMetric, Metrics } from "@dseq/common";

export type SubmitterMetrics = {
  batchesPosted: CounterMetric<"kind">;
  bytesPosted: CounterMetric<"kind">;
  l1Gas: CounterMetric<"kind">;
  signSeconds: HistogramMetric;
  refusals: CounterMetric<"reason">;
  /** Committed L2 blocks not yet in a confirmed batch. */
  lagBlocks: GaugeMetric;
  /** Seconds since the oldest block not yet in a confirmed batch was made. */
  lagSeconds: GaugeMetric;
  replacements: CounterMetric;
  errors: CounterMetric<"kind">;
};

const noopCounter = { inc: () => {} };
const noopGauge = { set: () => {}, inc: () => {}, dec: () => {} };
const noopHistogram = { observe: () => {}, startTimer: () => () => 0 };

export function createSubmitterMetrics(m?: Metrics): SubmitterMetrics {
  if (!m) {
    return {
      batchesPosted: noopCounter,
      bytesPosted: noopCounter,
      l1Gas: noopCounter,
      signSeconds: noopHistogram as unknown as HistogramMetric,
      refusals: noopCounter,
      lagBlocks: noopGauge,
      lagSeconds: noopGauge,
      replacements: noopCounter,
      errors: noopCounter,
    };
  }
  return {
    batchesPosted: m.counter({
      name: "dseq_batch_posted_total",
      help: "Batches confirmed on L1, by data kind",
      labelNames: ["kind"],
    }),
    bytesPosted: m.counter({
      name: "dseq_batch_posted_bytes",
      help: "Batch data bytes confirmed on L1",
      labelNames: ["kind"],
    }),
    l1Gas: m.counter({
      name: "dseq_batch_l1_gas_total",
      help: "L1 gas used by confirmed batch transactions",
      labelNames: ["kind"],
    }),
    signSeconds: m.histogram({
      name: "dseq_batch_sign_seconds",
      help: "Time to get the group signature of a batch",
    }),
    refusals: m.counter({
      name: "dseq_batch_refusals_total",
      help: "Batches this signer refused to sign, by reason",
      labelNames: ["reason"],
    }),
    lagBlocks: m.gauge({
      name: "dseq_batch_lag_blocks",
      help: "Committed L2 blocks not yet in a confirmed L1 batch",
    }),
    lagSeconds: m.gauge({
      name: "dseq_batch_lag_seconds",
      help: "Age of the oldest committed L2 block not yet in a confirmed L1 batch",
    }),
    replacements: m.counter({
      name: "dseq_batch_replacements_total",
      help: "Batch transactions replaced with a fee bump",
    }),
    errors: m.counter({
      name: "dseq_batch_errors_total",
      help: "Submitter errors by kind",
      labelNames: ["kind"],
    }),
  };
}
