import type { Metrics } from "@dseq/common";

export type NodeTssMetrics = ReturnType<typeof build>;

function build(m: Metrics) {
  return {
    refusals: m.counter({
      name: "dseq_node_tss_refusals_total",
      help: "Signing requests this node refused, by reason",
      labelNames: ["reason"],
    }),
    attempts: m.counter({
      name: "dseq_node_tss_sign_attempts_total",
      help: "Signing attempts this node coordinated",
    }),
    signSeconds: m.histogram({ name: "dseq_node_tss_sign_seconds", help: "Time from sign() to a signature" }),
    dkg: m.counter({
      name: "dseq_node_tss_dkg_total",
      help: "DKGs this node ran, by result",
      labelNames: ["result"],
    }),
    dkgSeconds: m.histogram({ name: "dseq_node_tss_dkg_seconds", help: "Duration of a successful DKG" }),
  };
}

export function createNodeTssMetrics(m: Metrics | undefined): NodeTssMetrics | undefined {
  return m ? build(m) : undefined;
}
