import type { CounterMetric, GaugeMetric, Metrics } from "@dseq/common";

export type ListenerMetrics = {
  head: GaugeMetric;
  lag: GaugeMetric;
  confirmed: GaugeMetric;
  errors: CounterMetric<"kind">;
  events: CounterMetric<"type">;
  reorgs: CounterMetric;
};

const noopCounter = { inc: () => {} };
const noopGauge = { set: () => {}, inc: () => {}, dec: () => {} };

export function createListenerMetrics(m?: Metrics): ListenerMetrics {
  if (!m) {
    return {
      head: noopGauge,
      lag: noopGauge,
      confirmed: noopGauge,
      errors: noopCounter,
      events: noopCounter,
      reorgs: noopCounter,
    };
  }
  return {
    head: m.gauge({ name: "dseq_l1_head", help: "Highest L1 block number an endpoint reported" }),
    lag: m.gauge({ name: "dseq_l1_lag_blocks", help: "L1 head minus the listener's confirmed cursor" }),
    confirmed: m.gauge({
      name: "dseq_l1_confirmed_block",
      help: "L1 block up to which events are confirmed",
    }),
    errors: m.counter({
      name: "dseq_l1_errors_total",
      help: "L1 listener errors by kind",
      labelNames: ["kind"],
    }),
    events: m.counter({
      name: "dseq_l1_events_total",
      help: "Confirmed L1 events emitted, by type",
      labelNames: ["type"],
    }),
    reorgs: m.counter({ name: "dseq_l1_reorgs_total", help: "Rewinds to a common ancestor" }),
  };
}
