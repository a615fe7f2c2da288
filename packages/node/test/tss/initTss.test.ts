import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, createMetrics, createNoopLogger, type Hex } from "@dseq/common";
import { secp256k1 } from "@dseq/crypto";
import { verifyL1Signature } from "@dseq/mpc-tss";
import { afterAll, describe, expect, it } from "vitest";
import { initTss, type NodeTss } from "../../src/tss/initTss.ts";
import { type LocalTssNet, startLocalTssNet, waitUntil } from "../../src/tss/localTssNet.ts";
import type { SpanLike } from "../../src/tss/scheduleValidatorSource.ts";

describe("initTss: the node's wiring over a schedule-like set", () => {
  let net: LocalTssNet | undefined;
  let root = "";
  const stops: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const s of stops.reverse()) await s();
    await net?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("4 nodes: DKG from the schedule's span (uncompressed keys), then a batch digest signed", async () => {
    net = await startLocalTssNet(4, 903n, false);
    root = await mkdtemp(join(tmpdir(), "dseq-node-inittss-"));
    const span: SpanLike = {
      index: 0,
      validatorSet: {
        validators: net.keys.map((k, i) => ({
          address: `0x${String(i).repeat(40)}` as Hex,
          publicKey: bytesToHex(secp256k1.convertPublicKey(k.publicKey, false)),
          power: 10n,
        })),
      },
    };
    const nodes: NodeTss[] = [];
    for (const [i, key] of net.keys.entries()) {
      const started = await initTss(
        {
          chainId: 903n,
          dataDir: join(root, `n${i}`),
          password: "pw",
          scrypt: { N: 1 << 14, r: 8, p: 1 },
          approve: () => true,
        },
        {
          host: net.hosts[i]!,
          privateKey: key.secretKey,
          schedule: () => ({ currentSpan: () => span, spanAt: () => span }),
          logger: createNoopLogger(),
          metrics: createMetrics(),
        },
      );
      stops.push(started.stop);
      nodes.push(started.module);
    }
    await waitUntil(() => nodes.every((n) => n.service.status().inGroup), 30_000, "dkg");
    const digest = new Uint8Array(32).fill(3);
    const sigs = await Promise.all(nodes.map((n) => n.service.sign(digest, { kind: "batch" })));
    expect(new Set(sigs.map((s) => s.groupKey)).size).toBe(1);
    expect(verifyL1Signature(sigs[0]!.l1, digest)).toBe(true);
  }, 60_000);
});
