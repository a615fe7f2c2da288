import type { Metrics } from "@dseq/common";

/** The node's own metrics (the modules register theirs); names are what alerts and Grafana read. */
export function createNodeMetrics(metrics: Metrics) {
  return {
    buildSeconds: metrics.histogram({
      name: "dseq_node_block_build_seconds",
      help: "time to build a proposed block",
    }),
    executeSeconds: metrics.histogram({
      name: "dseq_node_block_execute_seconds",
      help: "time to re-execute a proposed block",
    }),
    commitSeconds: metrics.histogram({
      name: "dseq_node_block_commit_seconds",
      help: "time to commit a decided block",
    }),
    head: metrics.gauge({ name: "dseq_node_head_height", help: "latest committed block number" }),
    lastCommitRound: metrics.gauge({
      name: "dseq_node_last_commit_round",
      help: "round in which the last block was committed",
    }),
    proposerMisses: metrics.counter({
      name: "dseq_node_proposer_misses_total",
      help: "heights not committed in round 0",
    }),
    poolSize: metrics.gauge({ name: "dseq_node_txpool_size", help: "transactions in the pool" }),
    peers: metrics.gauge({ name: "dseq_node_peers", help: "connected peers" }),
    streamed: metrics.counter({
      name: "dseq_node_streamed_proposals_total",
      help: "proposals checked against this validator's build of the streamed block (hit: no re-execution)",
      labelNames: ["result"],
    }),
  };
}

export type NodeMetrics = ReturnType<typeof createNodeMetrics>;
