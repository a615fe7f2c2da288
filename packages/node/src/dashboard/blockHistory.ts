import { statfsSync } from "node:fs";
import type { Hex, Logger, Metrics } from "@dseq/common";
import { decodeCertificate } from "../rotation.ts";

/** One committed block as this node saw it: what the dashboard charts draw. */
export type BlockPoint = {
  height: number;
  round: number;
  txs: number;
  proposer: Hex;
  /** Header timestamp (slot), ms. */
  slotMs: number;
  /** When this node committed it, ms. */
  committedAt: number;
  /** Since this node's previous commit, ms (undefined for the first one seen). */
  intervalMs: number | undefined;
  /** Commit time minus slot time: how long agreement took after the slot, ms. */
  latencyMs: number;
};

export type OwnActivity = {
  /** Blocks this node built that were committed. */
  proposed: number;
  /** Heights where this node was the round-0 proposer and the block came from a later round. */
  missedProposals: number;
  /** Committed blocks whose certificate holds this node's precommit. */
  votesIncluded: number;
  /** Committed blocks whose certificate lacks it (while this node is a validator). */
  votesAbsent: number;
};

export type BlockHistoryModules = {
  self: () => string;
  isSigner: () => boolean;
  certificate: (height: number) => Promise<Uint8Array | undefined>;
  round0Proposer: (height: number) => Hex | undefined;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
};

export type CommittedEvent = { height: number; round: number; txs: number; proposer: Hex; timestamp: number };

/**
 * What the node committed since it started, seen from this node: the last `keep` blocks for the
 * charts and this node's own proposals and precommits. Registers the metrics the alert rules
 * read (`dseq_node_own_*`, `dseq_node_datadir_free_bytes`).
 */
export class BlockHistory {
  readonly blocks: BlockPoint[] = [];
  readonly own: OwnActivity = { proposed: 0, missedProposals: 0, votesIncluded: 0, votesAbsent: 0 };
  private readonly m: BlockHistoryModules;
  private readonly keep: number;
  private readonly proposals;
  private readonly precommits;
  private readonly diskFree;

  constructor(opts: { keep: number }, modules: BlockHistoryModules) {
    this.keep = opts.keep;
    this.m = modules;
    this.proposals = modules.metrics.counter({
      name: "dseq_node_own_proposals_total",
      help: "heights where this node was the round-0 proposer, by result (committed: its block; missed: a later round's)",
      labelNames: ["result"],
    });
    this.precommits = modules.metrics.counter({
      name: "dseq_node_own_precommits_total",
      help: "committed blocks whose certificate includes (or lacks) this node's precommit",
      labelNames: ["result"],
    });
    this.diskFree = modules.metrics.gauge({
      name: "dseq_node_datadir_free_bytes",
      help: "free bytes on the file system of the data dir",
    });
    // Present from the first scrape, so `increase()` and absent-checks work before any block.
    for (const result of ["committed", "missed"]) this.proposals.inc({ result }, 0);
    for (const result of ["included", "absent"]) this.precommits.inc({ result }, 0);
  }

  onCommitted(e: CommittedEvent): void {
    const at = this.m.now();
    const prev = this.blocks.at(-1);
    this.blocks.push({
      height: e.height,
      round: e.round,
      txs: e.txs,
      proposer: e.proposer,
      slotMs: e.timestamp * 1000,
      committedAt: at,
      intervalMs: prev ? at - prev.committedAt : undefined,
      latencyMs: at - e.timestamp * 1000,
    });
    if (this.blocks.length > this.keep) this.blocks.shift();
    const self = this.m.self().toLowerCase();
    if (e.proposer.toLowerCase() === self) this.own.proposed++;
    const first = this.m.round0Proposer(e.height)?.toLowerCase();
    if (first === self) {
      if (e.round === 0) this.proposals.inc({ result: "committed" });
      else {
        this.own.missedProposals++;
        this.proposals.inc({ result: "missed" });
      }
    }
    if (this.m.isSigner()) void this.checkVote(e.height);
  }

  private async checkVote(height: number): Promise<void> {
    try {
      const bytes = await this.m.certificate(height);
      if (!bytes) return;
      const self = this.m.self().toLowerCase();
      const signed = decodeCertificate(bytes).signatures.some((s) => s.validator.toLowerCase() === self);
      if (signed) this.own.votesIncluded++;
      else this.own.votesAbsent++;
      this.precommits.inc({ result: signed ? "included" : "absent" });
    } catch (err) {
      this.m.logger.debug("cannot read a commit certificate", { height, err });
    }
  }

  /** Free bytes where the data dir lives (undefined if the file system cannot say). */
  sampleDisk(dataDir: string): number | undefined {
    try {
      const s = statfsSync(dataDir);
      const free = Number(s.bavail) * Number(s.bsize);
      this.diskFree.set(free);
      return free;
    } catch {
      return undefined;
    }
  }
}
