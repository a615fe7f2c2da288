import { createNoopLogger, hexToBytes, utf8ToBytes } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { DkgSession } from "../src/dkg/dkgSession.ts";
import { TssErrorCode } from "../src/errors.ts";
import { toFrostPublic, toFrostSecret } from "../src/keyShare.ts";
import { frost } from "../src/suite.ts";
import { createTestNetwork } from "../src/transport/testNetwork.ts";
import { fulfilled, makeParties, runTestDkg } from "./helpers.ts";

/** Signs with the first t shares directly through noble, to prove the shares fit the key. */
function signWithShares(results: ReturnType<typeof fulfilled>, t: number, msg: Uint8Array): Uint8Array {
  const signers = results.slice(0, t);
  const pub = toFrostPublic(signers[0]!.group);
  const cs = signers.map((r) => frost.commit(toFrostSecret(r.keyShare)));
  const list = cs.map((c) => c.commitments);
  const shares: Record<string, Uint8Array> = {};
  signers.forEach((r, i) => {
    shares[r.keyShare.identifier] = frost.signShare(toFrostSecret(r.keyShare), pub, cs[i]!.nonces, list, msg);
  });
  return frost.aggregate(pub, list, msg, shares);
}

describe("DKG over a lossy test network", () => {
  for (const [n, t, drop] of [
    [4, 3, 0.2],
    [7, 5, 0.1],
  ] as const) {
    it(`${t}-of-${n} with ${drop * 100}% drops: everyone gets the same key, shares sign`, async () => {
      const keys = makeParties(n, n);
      const run = await runTestDkg(keys, { net: { seed: n, dropRate: drop, minDelayMs: 0, maxDelayMs: 15 } });
      try {
        const res = fulfilled(run);
        expect(res).toHaveLength(n);
        const gk = res[0]!.group.groupKey;
        for (const r of res) {
          expect(r.group.groupKey).toBe(gk);
          expect(r.group.threshold).toBe(t);
          expect(r.group.participants).toHaveLength(n);
          expect(r.confirmations).toHaveLength(n);
          expect(r.excluded).toEqual([]);
        }
        expect(run.net.stats.dropped).toBeGreaterThan(0);
        const msg = utf8ToBytes("batch header");
        const sig = signWithShares(res, t, msg);
        expect(frost.verify(sig, msg, hexToBytes(gk))).toBe(true);
      } finally {
        run.close();
      }
    });
  }

  it("a dealer sending a wrong share is named by a signed complaint and the rest finish", async () => {
    const keys = makeParties(5, 9);
    const bad = keys[2]!.id;
    const victim = keys[0]!.id;
    const run = await runTestDkg(keys, {
      net: { seed: 3, dropRate: 0.05, maxDelayMs: 5 },
      faults: new Map([[bad, { corruptShareFor: [victim] }]]),
    });
    try {
      const badResult = run.results.get(bad)!;
      expect(badResult.status).toBe("rejected");
      expect((badResult as PromiseRejectedResult).reason.code).toBe(TssErrorCode.DkgExcluded);
      const res = fulfilled(run);
      expect(res).toHaveLength(4);
      for (const r of res) {
        expect(r.excluded).toEqual([{ party: bad, reason: "bad-share", accuser: victim }]);
        expect(r.group.participants).not.toContain(bad);
        expect(r.group.threshold).toBe(4);
        expect(r.group.groupKey).toBe(res[0]!.group.groupKey);
      }
      const msg = utf8ToBytes("after exclusion");
      expect(frost.verify(signWithShares(res, 4, msg), msg, hexToBytes(res[0]!.group.groupKey))).toBe(true);
    } finally {
      run.close();
    }
  });

  it("a box that does not decrypt also names the dealer", async () => {
    const keys = makeParties(4, 11);
    const bad = keys[3]!.id;
    const run = await runTestDkg(keys, { faults: new Map([[bad, { garbleBoxFor: [keys[1]!.id] }]]) });
    try {
      const res = fulfilled(run);
      expect(res).toHaveLength(3);
      for (const r of res)
        expect(r.excluded).toEqual([{ party: bad, reason: "bad-share", accuser: keys[1]!.id }]);
    } finally {
      run.close();
    }
  });

  it("a false complaint names the accuser, not the dealer", async () => {
    const keys = makeParties(4, 12);
    const liar = keys[0]!.id;
    const honest = keys[1]!.id;
    const run = await runTestDkg(keys, { faults: new Map([[liar, { falseComplaintAgainst: honest }]]) });
    try {
      expect((run.results.get(liar) as PromiseRejectedResult).reason.code).toBe(TssErrorCode.DkgExcluded);
      const res = fulfilled(run);
      expect(res).toHaveLength(3);
      for (const r of res)
        expect(r.excluded).toEqual([{ party: liar, reason: "false-complaint", accuser: liar }]);
    } finally {
      run.close();
    }
  });

  it("a member sending two different signed round-1 messages is proven to equivocate and excluded", async () => {
    const keys = makeParties(5, 15);
    const liar = keys[4]!.id;
    const run = await runTestDkg(keys, {
      net: { seed: 4, dropRate: 0.05, maxDelayMs: 5 },
      faults: new Map([[liar, { equivocateTo: [keys[0]!.id, keys[1]!.id] }]]),
    });
    try {
      expect((run.results.get(liar) as PromiseRejectedResult).reason.code).toBe(TssErrorCode.DkgExcluded);
      const res = fulfilled(run);
      expect(res).toHaveLength(4);
      for (const r of res) {
        expect(r.excluded).toEqual([{ party: liar, reason: "equivocation" }]);
        expect(r.group.groupKey).toBe(res[0]!.group.groupKey);
      }
      const msg = utf8ToBytes("after equivocation");
      expect(frost.verify(signWithShares(res, 4, msg), msg, hexToBytes(res[0]!.group.groupKey))).toBe(true);
    } finally {
      run.close();
    }
  });

  it("a member that never shows up makes the DKG fail at its deadline, naming it", async () => {
    const keys = makeParties(4, 14);
    const net = createTestNetwork({ seed: 1 });
    const members = keys.map((k) => k.id);
    const sessions = keys
      .slice(0, 3)
      .map((key) =>
        new DkgSession(
          { epoch: 1, members, deadlineMs: 1500, resendIntervalMs: 100 },
          { key, transport: net.join(key.id), logger: createNoopLogger() },
        ).start(),
      );
    try {
      const errs = await Promise.all(sessions.map((s) => s.result.catch((e) => e)));
      for (const e of errs) {
        expect(e.code).toBe(TssErrorCode.DkgTimeout);
        expect(e.details.missing).toEqual([keys[3]!.id]);
      }
    } finally {
      for (const s of sessions) s.stop();
      net.close();
    }
  });
});
