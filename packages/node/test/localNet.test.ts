import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalNet, startLocalNet } from "./helpers/localNet.ts";

describe("4 validators in one process (real LevelDB, libp2p on 127.0.0.1)", { timeout: 120_000 }, () => {
  let net: LocalNet;
  beforeAll(async () => {
    net = await startLocalNet({
      validators: 4,
      blockTimeMs: 1000,
      logLevel: (process.env.DSEQ_TEST_LOG as "info") ?? "warn",
    });
  }, 60_000);
  afterAll(async () => {
    await net?.stop();
  });

  it("commits the same blocks on every node", async () => {
    const seen = new Map<number, Set<string>>();
    await new Promise<void>((resolve) => {
      for (const n of net.nodes) {
        n.events.on("node.committed", (c) => {
          const s = seen.get(c.height) ?? new Set();
          s.add(c.hash);
          seen.set(c.height, s);
          if ([...seen.values()].filter((x) => x.size > 0).length >= 5) resolve();
        });
      }
    });
    for (const [, hashes] of seen) expect(hashes.size).toBe(1);
  });
});
