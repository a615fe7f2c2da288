import type { CounterMetric, GaugeMetric, Metrics } from "@dseq/common";

export type DeriveMetrics = {
  head: GaugeMetric;
  batches: CounterMetric;
  halted: GaugeMetric;
  retries: CounterMetric;
  rewinds: CounterMetric;
};

const noopCounter = { inc: () => {} };
const noopGauge = { set: () => {}, inc: () => {}, dec: () => {} };

/** `dseq_derive_*`: where the verifier stands, and whether it stopped. */
export function createDeriveMetrics(m?: Metrics): DeriveMetrics {
  if (!m)
    return {
      head: noopGauge,
      batches: noopCounter,
      halted: noopGauge,
      retries: noopCounter,
      rewinds: noopCounter,
    };
  return {
    head: m.gauge({ name: "dseq_derive_head", help: "Last L2 block derived from L1 and checked" }),
    batches: m.counter({ name: "dseq_derive_batches_total", help: "Batches derived and checked" }),
    halted: m.gauge({ name: "dseq_derive_halted", help: "1 when derivation stopped on a mismatch" }),
    retries: m.counter({
      name: "dseq_derive_retries_total",
      help: "Batch data not available yet, tried again",
    }),
    rewinds: m.counter({
      name: "dseq_derive_rewinds_total",
      help: "Derived chain rewound after an L1 reorg removed a derived batch (ADR 0184)",
    }),
  };
}
