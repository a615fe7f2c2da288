import { createLogger, createMetrics, type Hex } from "@dseq/common";
import { encodeCertificate } from "@dseq/pos-consensus";
import { describe, expect, it } from "vitest";
import { BlockHistory } from "./blockHistory.ts";

const self = `0x${"11".repeat(20)}` as Hex;
const other = `0x${"22".repeat(20)}` as Hex;
const sig = `0x${"ab".repeat(64)}` as Hex;
const hash = `0x${"cd".repeat(32)}` as Hex;

function make(opts: { signers: Record<number, Hex[]>; round0: Record<number, Hex>; keep?: number }) {
  const metrics = createMetrics();
  let now = 10_000;
  const h = new BlockHistory(
    { keep: opts.keep ?? 100 },
    {
      self: () => self,
      isSigner: () => true,
      certificate: async (height) =>
        opts.signers[height]
          ? encodeCertificate({
              height,
              round: 0,
              blockHash: hash,
              signatures: (opts.signers[height] as Hex[]).map((validator) => ({ validator, signature: sig })),
            })
          : undefined,
      round0Proposer: (height) => opts.round0[height],
      metrics,
      logger: createLogger({ level: "fatal" }),
      now: () => now,
    },
  );
  return { h, metrics, tick: (ms: number) => (now += ms) };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

describe("BlockHistory", () => {
  it("counts own proposals, missed round-0 proposals and precommits in certificates, as metrics too", async () => {
    const { h, metrics, tick } = make({
      signers: { 1: [self, other], 2: [other], 3: [self] },
      round0: { 1: self, 2: self, 3: other },
    });
    h.onCommitted({ height: 1, round: 0, txs: 3, proposer: self, timestamp: 9 });
    tick(1_000);
    // Round 0 was this node's, but the block came from round 1 (another proposer).
    h.onCommitted({ height: 2, round: 1, txs: 0, proposer: other, timestamp: 10 });
    tick(1_500);
    h.onCommitted({ height: 3, round: 0, txs: 1, proposer: other, timestamp: 11 });
    await settle();
    expect(h.own).toEqual({ proposed: 1, missedProposals: 1, votesIncluded: 2, votesAbsent: 1 });
    expect(h.blocks.map((b) => [b.height, b.intervalMs, b.latencyMs])).toEqual([
      [1, undefined, 1_000],
      [2, 1_000, 1_000],
      [3, 1_500, 1_500],
    ]);
    const byResult = async (name: string) =>
      Object.fromEntries((await metrics.values(name)).map((v) => [v.labels.result, v.value]));
    expect(await byResult("dseq_node_own_proposals_total")).toEqual({ committed: 1, missed: 1 });
    expect(await byResult("dseq_node_own_precommits_total")).toEqual({ included: 2, absent: 1 });
  });

  it("keeps only the last `keep` blocks", () => {
    const { h, tick } = make({ signers: {}, round0: {}, keep: 2 });
    for (const height of [1, 2, 3]) {
      tick(1_000);
      h.onCommitted({ height, round: 0, txs: 0, proposer: other, timestamp: height });
    }
    expect(h.blocks.map((b) => b.height)).toEqual([2, 3]);
  });

  it("reports free space of the data dir's file system", async () => {
    const { h, metrics } = make({ signers: {}, round0: {} });
    const free = h.sampleDisk(process.cwd());
    expect(free).toBeGreaterThan(0);
    expect((await metrics.values("dseq_node_datadir_free_bytes"))[0]?.value).toBe(free);
    expect(h.sampleDisk("/no/such/dir")).toBeUndefined();
  });
});
