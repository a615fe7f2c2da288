import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PartyId } from "@dseq/mpc-tss";
import { manualValidatorSource, startLocalTssNet, waitUntil } from "./localTssNet.ts";
import { TssService } from "./tssService.ts";

export type TssNetworkFigures = {
  /** Slowest member's DKG session, ms. */
  dkgMs: number;
  /** Median time for every live member's `sign` of one digest to resolve, ms. */
  signMedianMs: number;
  signMs: number[];
  /** Signing rounds that failed (timed out or threw). */
  failures: number;
};

/**
 * For benches: `validators` TssServices over real libp2p hosts on 127.0.0.1 (one process): the
 * DKG of the span-0 set, then `rounds` digests signed with `silent` members stopped (never the
 * leader), every live member calling `sign` as the batch submitter does.
 */
export async function measureTssNetwork(opts: {
  validators: number;
  silent?: number;
  rounds?: number;
  chainId?: bigint;
}): Promise<TssNetworkFigures> {
  const chainId = opts.chainId ?? 901n;
  const net = await startLocalTssNet(opts.validators, chainId);
  const root = await mkdtemp(join(tmpdir(), "dseq-tss-bench-"));
  const set = { span: 0n, validators: net.keys.map((k) => ({ party: k.id, power: 100n })) };
  const services = net.keys.map(
    (key, i) =>
      new TssService(
        {
          chainId,
          dataDir: join(root, `n${i}`),
          password: "bench",
          scrypt: { N: 1 << 14, r: 8, p: 1 },
          approve: () => true,
        },
        { key, transport: net.transports[i]!, validators: manualValidatorSource(set) },
      ),
  );
  try {
    await Promise.all(services.map((s) => s.start()));
    await waitUntil(() => services.every((s) => s.groupKey() !== undefined), 120_000, "dkg");
    const dkgMs = Math.max(...services.map((s) => s.status().lastDkgMs ?? 0));
    const silent = opts.silent ?? 0;
    for (const s of services.slice(services.length - silent)) await s.stop();
    const live = services.slice(0, services.length - silent);
    const leader = net.keys[0]?.id as PartyId;
    const signMs: number[] = [];
    let failures = 0;
    for (let r = 0; r < (opts.rounds ?? 15); r++) {
      const digest = new Uint8Array(32);
      digest[0] = r + 1;
      digest[31] = opts.validators;
      const t0 = performance.now();
      try {
        await Promise.all(live.map((s) => s.sign(digest, { kind: "bench", round: r }, { leader })));
        signMs.push(performance.now() - t0);
      } catch {
        failures++;
      }
    }
    const sorted = [...signMs].sort((a, b) => a - b);
    return { dkgMs, signMs, signMedianMs: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN, failures };
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    await net.stop();
    await rm(root, { recursive: true, force: true });
  }
}
