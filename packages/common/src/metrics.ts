import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { CommonError, CommonErrorCode } from "./errors.ts";

export type Labels<L extends string> = Partial<Record<L, string | number>>;

export interface CounterMetric<L extends string = never> {
  inc(labels?: Labels<L>, value?: number): void;
}
export interface GaugeMetric<L extends string = never> {
  set(value: number, labels?: Labels<L>): void;
  inc(labels?: Labels<L>, value?: number): void;
  dec(labels?: Labels<L>, value?: number): void;
}
export interface HistogramMetric<L extends string = never> {
  observe(value: number, labels?: Labels<L>): void;
  /** Starts a timer; calling the result observes the elapsed seconds. */
  startTimer(labels?: Labels<L>): () => number;
}

export type MetricSpec<L extends string> = {
  /** `dseq_<module>_<what>_<unit>`, e.g. `dseq_txpool_pending_total`. */
  name: string;
  help: string;
  labelNames?: readonly L[];
};

export type HistogramSpec<L extends string> = MetricSpec<L> & { buckets?: number[] };

/**
 * The metrics interface packages take. One registry per node (never prom-client's global), so
 * several nodes can run in one process, as the tests and the devnet do.
 */
export interface Metrics {
  counter<L extends string = never>(spec: MetricSpec<L>): CounterMetric<L>;
  gauge<L extends string = never>(spec: MetricSpec<L>): GaugeMetric<L>;
  histogram<L extends string = never>(spec: HistogramSpec<L>): HistogramMetric<L>;
  /** Prometheus text exposition of every metric. */
  render(): Promise<string>;
  readonly contentType: string;
  /** The value(s) of one metric, for tests and health endpoints. */
  values(name: string): Promise<{ labels: Record<string, string | number>; value: number }[]>;
}

export const METRIC_NAME_RE = /^dseq_[a-z0-9]+(_[a-z0-9]+)+$/;

function checkName(name: string): void {
  if (!METRIC_NAME_RE.test(name)) {
    throw new CommonError(
      CommonErrorCode.BadMetricName,
      `metric name ${name} does not follow dseq_<module>_<what>_<unit>`,
    );
  }
}

class PromMetrics implements Metrics {
  readonly registry: Registry;
  constructor(registry: Registry) {
    this.registry = registry;
  }
  get contentType(): string {
    return this.registry.contentType;
  }
  private existing<T>(name: string): T | undefined {
    return this.registry.getSingleMetric(name) as T | undefined;
  }
  counter<L extends string = never>(spec: MetricSpec<L>): CounterMetric<L> {
    checkName(spec.name);
    const c =
      this.existing<Counter<L>>(spec.name) ??
      new Counter<L>({
        name: spec.name,
        help: spec.help,
        labelNames: (spec.labelNames ?? []) as L[],
        registers: [this.registry],
      });
    return { inc: (labels, value = 1) => (labels ? c.inc(labels, value) : c.inc(value)) };
  }
  gauge<L extends string = never>(spec: MetricSpec<L>): GaugeMetric<L> {
    checkName(spec.name);
    const g =
      this.existing<Gauge<L>>(spec.name) ??
      new Gauge<L>({
        name: spec.name,
        help: spec.help,
        labelNames: (spec.labelNames ?? []) as L[],
        registers: [this.registry],
      });
    return {
      set: (value, labels) => (labels ? g.set(labels, value) : g.set(value)),
      inc: (labels, value = 1) => (labels ? g.inc(labels, value) : g.inc(value)),
      dec: (labels, value = 1) => (labels ? g.dec(labels, value) : g.dec(value)),
    };
  }
  histogram<L extends string = never>(spec: HistogramSpec<L>): HistogramMetric<L> {
    checkName(spec.name);
    const h =
      this.existing<Histogram<L>>(spec.name) ??
      new Histogram<L>({
        name: spec.name,
        help: spec.help,
        labelNames: (spec.labelNames ?? []) as L[],
        buckets: spec.buckets ?? [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
        registers: [this.registry],
      });
    return {
      observe: (value, labels) => (labels ? h.observe(labels, value) : h.observe(value)),
      startTimer: (labels) => h.startTimer(labels),
    };
  }
  render(): Promise<string> {
    return this.registry.metrics();
  }
  async values(name: string): Promise<{ labels: Record<string, string | number>; value: number }[]> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) return [];
    const got = await metric.get();
    return got.values.map((v) => ({ labels: v.labels as Record<string, string | number>, value: v.value }));
  }
}

export type MetricsOptions = {
  /** Also collect Node's process metrics (CPU, heap, event loop lag). */
  defaultMetrics?: boolean;
};

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: "dseq_process_" });
  return new PromMetrics(registry);
}
