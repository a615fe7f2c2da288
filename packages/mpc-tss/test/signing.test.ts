import { createMetrics, hexToBytes, utf8ToBytes } from "@dseq/common";
import { afterEach, describe, expect, it } from "vitest";
import { decodeMessage } from "../src/codec.ts";
import { TssErrorCode } from "../src/errors.ts";
import { keyShareSource, Signer } from "../src/sign/signer.ts";
import { NonceStore } from "../src/store/nonceStore.ts";
import { frost } from "../src/suite.ts";
import { type Cluster, makeCluster } from "./helpers.ts";

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const verify = (c: Cluster, sig: Uint8Array, msg: Uint8Array): boolean =>
  frost.verify(sig, msg, hexToBytes(c.group.groupKey));

describe("signing sessions", () => {
  for (const [n, t] of [
    [4, 3],
    [7, 5],
  ] as const) {
    it(`${t}-of-${n} over a lossy network: the signature verifies with noble`, async () => {
      cluster = await makeCluster(n, { net: { seed: 100 + n, dropRate: 0.3, maxDelayMs: 10 } });
      const msg = utf8ToBytes(`batch ${n}`);
      const res = await cluster.nodes[1]!.coordinator.sign({
        group: cluster.group,
        message: msg,
        deadlineMs: 20_000,
      });
      expect(res.signers).toHaveLength(t);
      expect(verify(cluster, res.signature, msg)).toBe(true);
      expect(verify(cluster, res.signature, utf8ToBytes("another message"))).toBe(false);
      expect(cluster.net.stats.dropped).toBeGreaterThan(0);
    });
  }

  for (const mode of ["lazy", "eager"] as const) {
    it(`a signer sending a wrong share is named and excluded (${mode}); the honest quorum signs`, async () => {
      const probe = await makeCluster(4, { seed: 21 });
      const bad = probe.nodes[0]!.key.id;
      await probe.close();
      cluster = await makeCluster(4, {
        seed: 21,
        shareVerification: mode,
        signerFaults: new Map([[bad, { wrongShare: true }]]),
      });
      // Hold back one honest member's first commitment so the first quorum includes the bad one.
      const late = cluster.nodes.find((x) => x.key.id !== bad && x !== cluster!.nodes[3])!.key.id;
      let held = false;
      cluster.net.intercept((from, _to, data) => {
        if (from !== late || held || decodeMessage(data)?.type !== "sig/commit") return undefined;
        held = true;
        return false;
      });
      const msg = utf8ToBytes("state root 0xabc");
      const res = await cluster.nodes[3]!.coordinator.sign({ group: cluster.group, message: msg });
      expect(res.excluded).toEqual([{ party: bad, reason: "bad-share" }]);
      expect(res.signers).not.toContain(bad);
      expect(res.attempts).toBeGreaterThanOrEqual(2);
      expect(verify(cluster, res.signature, msg)).toBe(true);
    });
  }

  it("a signer that goes silent after committing: another subset signs (ROAST retry)", async () => {
    cluster = await makeCluster(7, { seed: 31 });
    const c = cluster;
    const victim = c.nodes[2]!.key.id;
    // Cut the victim off as soon as its first commitment has left it.
    c.net.intercept((from, _to, data) => {
      if (from === victim && decodeMessage(data)?.type === "sig/commit") c.net.disconnect(victim);
      return undefined;
    });
    const msg = utf8ToBytes("silent signer");
    const res = await c.nodes[0]!.coordinator.sign({ group: c.group, message: msg, deadlineMs: 20_000 });
    expect(verify(c, res.signature, msg)).toBe(true);
    expect(res.signers).not.toContain(victim);
  });

  it("approve refusing stops the share", async () => {
    const refused: string[] = [];
    cluster = await makeCluster(4, {
      seed: 41,
      approve: (key) => (message) => {
        if (new TextDecoder().decode(message) === "not from our chain") {
          refused.push(key.id);
          return false;
        }
        return true;
      },
    });
    const err = await cluster.nodes[0]!.coordinator.sign({
      group: cluster.group,
      message: utf8ToBytes("not from our chain"),
    }).catch((e) => e);
    expect(err.code).toBe(TssErrorCode.SignQuorumUnreachable);
    expect(refused.length).toBeGreaterThanOrEqual(2);
    for (const nd of cluster.nodes) expect(nd.signer.sharesProduced).toBe(0);
  });

  it("a lost refusal is asked for again: an unapprovable message fails fast, not at the deadline", async () => {
    cluster = await makeCluster(4, { seed: 43, approve: () => () => false });
    // Lose the first refusals of two signers. The third refusal kills the attempt, whose other
    // two members stay busy until they answer: they must be asked again, or no quorum of free
    // members remains and the session would wait for its deadline.
    const dropped = new Set<string>();
    cluster.net.intercept((from, _to, data) => {
      if (new TextDecoder().decode(data).includes("sig/refuse") && !dropped.has(from) && dropped.size < 2) {
        dropped.add(from);
        return false;
      }
      return undefined;
    });
    const t0 = Date.now();
    const err = await cluster.nodes[0]!.coordinator.sign({
      group: cluster.group,
      message: utf8ToBytes("withdraw everything"),
      deadlineMs: 20_000,
    }).catch((e) => e);
    expect(err.code).toBe(TssErrorCode.SignQuorumUnreachable);
    expect(dropped.size).toBe(2);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it("one member refusing is excluded as `refused`; the rest sign without it", async () => {
    let refuser = "";
    const metrics = createMetrics();
    cluster = await makeCluster(4, {
      seed: 42,
      metrics,
      approve: (key) => () => {
        if (!refuser) refuser = key.id;
        return key.id !== refuser;
      },
    });
    const msg = utf8ToBytes("batch 7");
    const res = await cluster.nodes[0]!.coordinator.sign({ group: cluster.group, message: msg });
    expect(res.excluded).toEqual([{ party: refuser, reason: "refused" }]);
    const node = cluster.nodes.find((x) => x.key.id === refuser)!;
    expect(node.signer.sharesProduced).toBe(0);
    expect(verify(cluster, res.signature, msg)).toBe(true);
    const value = async (name: string, labels: Record<string, string> = {}): Promise<number> =>
      (await metrics.values(name))
        .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
        .reduce((a, v) => a + v.value, 0);
    expect(await value("dseq_tss_sign_sessions_total", { result: "ok" })).toBe(1);
    expect(await value("dseq_tss_refusals_total", { reason: "policy" })).toBeGreaterThanOrEqual(1);
    expect(await value("dseq_tss_sign_excluded_total", { reason: "refused" })).toBe(1);
    const produced = cluster.nodes.reduce((a, x) => a + x.signer.sharesProduced, 0);
    expect(await value("dseq_tss_shares_produced_total")).toBe(produced);
  });

  it("`quorum` holds back a set that has the count but not the quorum; approve sees the signing set", async () => {
    const sets: string[][] = [];
    cluster = await makeCluster(4, {
      seed: 43,
      approve: () => (_m, ctx) => {
        sets.push([...ctx.signers]);
        return true;
      },
    });
    const msg = utf8ToBytes("batch 8");
    const res = await cluster.nodes[0]!.coordinator.sign({
      group: cluster.group,
      message: msg,
      // t = 3, but this quorum wants all four (as a voting-power check may)
      quorum: (parties) => parties.length === 4,
    });
    expect(res.signers).toHaveLength(4);
    expect(verify(cluster, res.signature, msg)).toBe(true);
    expect(sets.length).toBeGreaterThan(0);
    for (const set of sets) expect(set).toHaveLength(4);
    // a quorum the members can never satisfy: no attempt starts, the session ends at its deadline
    const err = await cluster.nodes[0]!.coordinator.sign({
      group: cluster.group,
      message: msg,
      quorum: () => false,
      deadlineMs: 1_500,
    }).catch((e) => e);
    expect(err.code).toBe(TssErrorCode.SignTimeout);
  });

  it("many sessions from different coordinators run at once", async () => {
    cluster = await makeCluster(4, { seed: 51, net: { seed: 9, dropRate: 0.05, maxDelayMs: 5 } });
    const c = cluster;
    const msgs = Array.from({ length: 8 }, (_, i) => utf8ToBytes(`concurrent ${i}`));
    const res = await Promise.all(
      msgs.map((m, i) =>
        c.nodes[i % 4]!.coordinator.sign({ group: c.group, message: m, deadlineMs: 20_000 }),
      ),
    );
    res.forEach((r, i) => {
      expect(verify(c, r.signature, msgs[i]!)).toBe(true);
    });
  });

  it("nonces are on disk before their commitment is published, and marked used before the share", async () => {
    cluster = await makeCluster(4, { seed: 61 });
    const c = cluster;
    const checks: Promise<void>[] = [];
    const seen: string[] = [];
    c.net.intercept((from, _to, data) => {
      const m = decodeMessage(data);
      const node = c.nodes.find((x) => x.key.id === from)!;
      if (m?.type === "sig/commit") {
        checks.push(
          NonceStore.open({ dir: node.dir, key: new Uint8Array(32) }).then((s) => {
            expect(s.status(m.commitment.nonceId)).toBe("fresh");
            seen.push("commit");
          }),
        );
      }
      if (m?.type === "sig/share") {
        const req = m;
        checks.push(
          NonceStore.open({ dir: node.dir, key: new Uint8Array(32) }).then((s) => {
            const used = [
              ...(s as unknown as { records: Map<string, { state: string }> }).records.values(),
            ].filter((r) => r.state === "used");
            expect(used.length).toBeGreaterThanOrEqual(1);
            if (req.next) expect(s.status(req.next.nonceId)).toBe("fresh");
            seen.push("share");
          }),
        );
      }
      return undefined;
    });
    const msg = utf8ToBytes("durable nonces");
    const res = await c.nodes[0]!.coordinator.sign({ group: c.group, message: msg });
    c.net.intercept(undefined);
    await Promise.all(checks);
    expect(seen).toContain("commit");
    expect(seen).toContain("share");
    expect(verify(c, res.signature, msg)).toBe(true);
  });

  it("a signer crashing in-process after its commitment (memory dropped, reopened from disk) still signs, once per nonce", async () => {
    cluster = await makeCluster(4, { seed: 71 });
    const c = cluster;
    const victim = c.nodes[1]!;
    // With one member offline the quorum of 3 needs the victim after its restart.
    c.net.disconnect(c.nodes[3]!.key.id);
    let crash: Promise<void> | undefined;
    const nonceOfAttempt = new Map<number, string>();
    // Distinct share values per nonce: a resent answer repeats the same bytes, a reuse would not.
    const sharesPerNonce = new Map<string, Set<string>>();
    c.net.intercept((from, to, data) => {
      const m = decodeMessage(data);
      if (to === victim.key.id && m?.type === "sig/request") {
        const mine = m.signers.find((x) => x.party === victim.key.id);
        if (mine) nonceOfAttempt.set(m.attempt, mine.commitment.nonceId);
      }
      if (from === victim.key.id && m?.type === "sig/share") {
        const n = nonceOfAttempt.get(m.attempt) as string;
        sharesPerNonce.set(n, (sharesPerNonce.get(n) ?? new Set()).add(m.share));
      }
      if (from === victim.key.id && m?.type === "sig/commit" && !crash) {
        crash = (async () => {
          await victim.signer.stop(); // the process "dies": every in-memory state is gone
          const nonces = await NonceStore.open({ dir: victim.dir, key: victim.nonceKey });
          victim.signer = new Signer(
            { approve: () => true },
            {
              key: victim.key,
              transport: c.net.join(victim.key.id),
              shares: keyShareSource([victim.keyShare]),
              nonces,
            },
          ).start();
        })();
      }
      return undefined;
    });
    const msg = utf8ToBytes("crash mid-session");
    const res = await c.nodes[0]!.coordinator.sign({ group: c.group, message: msg, deadlineMs: 20_000 });
    await crash;
    expect(crash).toBeDefined();
    expect(verify(c, res.signature, msg)).toBe(true);
    expect(res.signers).toContain(victim.key.id);
    expect(victim.signer.sharesProduced).toBeGreaterThanOrEqual(1);
    expect(sharesPerNonce.size).toBeGreaterThanOrEqual(1);
    for (const shares of sharesPerNonce.values()) expect(shares.size).toBe(1);
  });
});
