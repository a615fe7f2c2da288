import type { CounterMetric, HistogramMetric, Metrics } from "@dseq/common";

/** The package's Prometheus metrics; shared by every session on one registry. */
export type TssMetrics = {
  dkgSessions: CounterMetric<"result">;
  dkgCulprits: CounterMetric<"reason">;
  signSessions: CounterMetric<"result">;
  signDuration: HistogramMetric;
  signAttempts: CounterMetric;
  signExcluded: CounterMetric<"reason">;
  sharesProduced: CounterMetric;
  refusals: CounterMetric<"reason">;
};

export function createTssMetrics(m: Metrics | undefined): TssMetrics | undefined {
  if (!m) return undefined;
  return {
    dkgSessions: m.counter({
      name: "dseq_tss_dkg_sessions_total",
      help: "DKG sessions ended, by result (ok or error code)",
      labelNames: ["result"],
    }),
    dkgCulprits: m.counter({
      name: "dseq_tss_dkg_culprits_total",
      help: "DKG members excluded as culprits, by reason",
      labelNames: ["reason"],
    }),
    signSessions: m.counter({
      name: "dseq_tss_sign_sessions_total",
      help: "signing sessions this node coordinated, by result (ok or error code)",
      labelNames: ["result"],
    }),
    signDuration: m.histogram({
      name: "dseq_tss_sign_duration_seconds",
      help: "time from start to aggregated signature of coordinated sessions",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    signAttempts: m.counter({ name: "dseq_tss_sign_attempts_total", help: "signing attempts started" }),
    signExcluded: m.counter({
      name: "dseq_tss_sign_excluded_total",
      help: "signers excluded from a coordinated session, by reason",
      labelNames: ["reason"],
    }),
    sharesProduced: m.counter({
      name: "dseq_tss_shares_produced_total",
      help: "signature shares this signer produced",
    }),
    refusals: m.counter({
      name: "dseq_tss_refusals_total",
      help: "signing requests this signer refused, by reason",
      labelNames: ["reason"],
    }),
  };
}
