import { hexToBytes, utf8ToBytes } from "@dseq/common";
import { afterAll, describe, expect, it } from "vitest";
import { frost } from "../src/suite.ts";
import { type Cluster, makeCluster } from "./helpers.ts";

describe("15-of-21", () => {
  let cluster: Cluster | undefined;
  afterAll(async () => {
    await cluster?.close();
  });

  it("DKG and signing over a lossy network; the signature verifies with noble", async () => {
    cluster = await makeCluster(21, {
      seed: 5,
      dkgNet: { seed: 21, dropRate: 0.05, maxDelayMs: 10 },
      net: { seed: 22, dropRate: 0.05, maxDelayMs: 10 },
    });
    expect(cluster.group.threshold).toBe(15);
    expect(cluster.group.participants).toHaveLength(21);
    for (const nd of cluster.nodes) expect(nd.keyShare.group.groupKey).toBe(cluster.group.groupKey);
    const msg = utf8ToBytes("15-of-21 batch header");
    const res = await cluster.nodes[20]!.coordinator.sign({
      group: cluster.group,
      message: msg,
      deadlineMs: 60_000,
    });
    expect(res.signers).toHaveLength(15);
    expect(frost.verify(res.signature, msg, hexToBytes(cluster.group.groupKey))).toBe(true);
    expect(cluster.net.stats.dropped).toBeGreaterThan(0);
  }, 150_000);
});
