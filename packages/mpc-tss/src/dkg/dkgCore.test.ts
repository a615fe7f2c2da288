import { bytesToHex, hexToBytes, utf8ToBytes } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage } from "../codec.ts";
import { TssErrorCode } from "../errors.ts";
import {
  createPartyKey,
  type PartyId,
  type PartyKey,
  sha256,
  signStatement,
  sortMembers,
} from "../identity.ts";
import { toFrostPublic, toFrostSecret } from "../keyShare.ts";
import type { DkgRound1Msg, DkgRound2Msg, TssMessage } from "../messages.ts";
import { ecdhWith, openShare, sealShare, shareKey } from "../shareBox.ts";
import { Fn, frost, identifierAt, type Rng } from "../suite.ts";
import { createDkgState, stepDkg } from "./dkgCore.ts";
import { DkgStatement, dkgSessionId, round1Payload, round2Payload } from "./dkgStatements.ts";
import type { DkgEffect, DkgResult, DkgState } from "./dkgTypes.ts";

/** Deterministic bytes: sha256(seed || counter) blocks. */
function seededRng(seed: number): Rng {
  let counter = 0;
  return (n = 32) => {
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32) {
      const block = sha256(Uint8Array.of(seed), Uint8Array.of(counter >> 8, counter & 0xff));
      counter++;
      out.set(block.subarray(0, Math.min(32, n - off)), off);
    }
    return out;
  };
}

type Envelope = { from: PartyId; to: PartyId; message: TssMessage };

/**
 * Four cores wired by hand: effects become envelopes in one FIFO queue, every message goes
 * through the codec, and a test may rewrite or drop any envelope. No timers, no transport.
 */
function createCluster(seed = 1) {
  const keys = sortKeys(
    Array.from({ length: 4 }, (_, i) => {
      const sk = new Uint8Array(32);
      sk[0] = 7;
      sk[31] = seed * 10 + i + 1;
      return createPartyKey(sk);
    }),
  );
  const members = keys.map((k) => k.id);
  const sessionId = dkgSessionId(1, members);
  const states = new Map<PartyId, DkgState>();
  for (const [i, key] of keys.entries()) {
    states.set(
      key.id,
      createDkgState({
        epoch: 1,
        members,
        threshold: 3,
        sessionId,
        key,
        resendIntervalMs: 100,
        rng: seededRng(seed * 16 + i),
      }),
    );
  }
  const queue: Envelope[] = [];
  const delivered: Envelope[] = [];
  const outcomes = new Map<PartyId, DkgEffect[]>(members.map((m) => [m, []]));
  const wire = (m: TssMessage): TssMessage => {
    const back = decodeMessage(encodeMessage(m));
    if (!back) throw new Error(`codec dropped a ${m.type}`);
    return back;
  };
  const step = (id: PartyId, input: Parameters<typeof stepDkg>[1]): void => {
    const { state, effects } = stepDkg(states.get(id) as DkgState, input);
    states.set(id, state);
    for (const e of effects) {
      if (e.type === "broadcast") {
        for (const to of members) if (to !== id) queue.push({ from: id, to, message: wire(e.message) });
      } else if (e.type === "send") queue.push({ from: id, to: e.to, message: wire(e.message) });
      else outcomes.get(id)?.push(e);
    }
  };
  /** Delivers until the queue is empty; `intercept` may rewrite an envelope or drop it. */
  const run = (intercept: (e: Envelope) => Envelope | undefined = (e) => e): void => {
    for (let e = queue.shift(); e; e = queue.shift()) {
      const d = intercept(e);
      if (!d) continue;
      delivered.push(d);
      step(d.to, { type: "message", from: d.from, message: d.message, now: 0 });
    }
  };
  const result = (id: PartyId): DkgResult | undefined =>
    (outcomes.get(id)?.find((e) => e.type === "done") as { result: DkgResult } | undefined)?.result;
  const error = (id: PartyId): { code?: string; details?: Record<string, unknown> } | undefined =>
    (outcomes.get(id)?.find((e) => e.type === "failed") as { error: { code?: string } } | undefined)?.error;
  const culprits = (id: PartyId) =>
    outcomes.get(id)?.flatMap((e) => (e.type === "culprit" ? [e.exclusion] : [])) ?? [];
  const startAll = (): void => {
    for (const m of members) step(m, { type: "start" });
  };
  return { keys, members, sessionId, states, queue, delivered, step, run, startAll, result, error, culprits };
}

function sortKeys(keys: PartyKey[]): PartyKey[] {
  const order = sortMembers(keys.map((k) => k.id));
  return order.map((id) => keys.find((k) => k.id === id) as PartyKey);
}

/** Signs with the shares of `results` through noble: the shares fit the group key. */
function signsWith(results: DkgResult[], msg: Uint8Array): boolean {
  const pub = toFrostPublic(results[0]!.group);
  const cs = results.map((r) => frost.commit(toFrostSecret(r.keyShare)));
  const list = cs.map((c) => c.commitments);
  const shares: Record<string, Uint8Array> = {};
  results.forEach((r, i) => {
    shares[r.keyShare.identifier] = frost.signShare(toFrostSecret(r.keyShare), pub, cs[i]!.nonces, list, msg);
  });
  return frost.verify(frost.aggregate(pub, list, msg, shares), msg, hexToBytes(results[0]!.group.groupKey));
}

/** The dealer's round-2 message with `box` in the recipient's slot, digests re-signed by the dealer. */
function rebox(r2: DkgRound2Msg, dealer: PartyKey, pos: number, box: Uint8Array): DkgRound2Msg {
  const digests = r2.digests.map((d, i) => (i === pos ? bytesToHex(sha256(box)) : d));
  const payload = round2Payload(
    r2.sessionId,
    r2.attempt,
    dealer.id,
    hexToBytes(r2.transcript),
    digests.map((d) => hexToBytes(d)),
  );
  const sig = bytesToHex(signStatement(dealer, DkgStatement.Round2, payload));
  return { ...r2, box: bytesToHex(box), digests, sig };
}

const count = (es: Envelope[], type: TssMessage["type"]) => es.filter((e) => e.message.type === type).length;

describe("DKG core, driven with exact message sequences", () => {
  it("happy path 3-of-4: 12 round-1, 12 round-2 and 12 ok deliveries, one key, shares sign", () => {
    const c = createCluster(1);
    c.startAll();
    c.run();
    expect(c.delivered).toHaveLength(36);
    expect([
      count(c.delivered, "dkg/r1"),
      count(c.delivered, "dkg/r2"),
      count(c.delivered, "dkg/ok"),
    ]).toEqual([12, 12, 12]);
    const results = c.members.map((m) => c.result(m) as DkgResult);
    for (const r of results) {
      expect(r.group.groupKey).toBe(results[0]!.group.groupKey);
      expect(r.group.threshold).toBe(3);
      expect(r.group.participants).toEqual(c.members);
      expect(r.excluded).toEqual([]);
      expect(r.confirmations.map((x) => x.party)).toEqual(c.members);
    }
    expect(signsWith(results.slice(1), utf8ToBytes("batch"))).toBe(true);
    // Same seeds, same sequence: the same key (the core draws randomness only from its rng).
    const again = createCluster(1);
    again.startAll();
    again.run();
    expect(again.result(again.members[0]!)?.group.groupKey).toBe(results[0]!.group.groupKey);
    // A finished core answers a repeated message with what the peer may have missed.
    const [a, b] = c.members as [PartyId, PartyId];
    const r1 = c.delivered.find((e) => e.from === b && e.message.type === "dkg/r1")?.message as TssMessage;
    c.step(a, { type: "message", from: b, message: r1, now: 1000 });
    expect(c.queue.map((e) => [e.to, e.message.type])).toEqual([
      [b, "dkg/r1"],
      [b, "dkg/r2"],
      [b, "dkg/ok"],
    ]);
  });

  it("a complaint: a wrong share from D to A is named by A's signed complaint, D is excluded everywhere", () => {
    const c = createCluster(2);
    const [a, , , d] = c.keys as [PartyKey, PartyKey, PartyKey, PartyKey];
    c.startAll();
    let dealerR1: DkgRound1Msg | undefined;
    c.run((e) => {
      if (e.from === d.id && e.message.type === "dkg/r1") dealerR1 = e.message;
      if (e.from !== d.id || e.to !== a.id || e.message.type !== "dkg/r2" || e.message.attempt !== "0x00")
        return e;
      const r2 = e.message;
      const ctx = { sessionId: r2.sessionId, attempt: r2.attempt, from: d.id, to: a.id };
      const k = shareKey(ecdhWith(a.secretKey)(hexToBytes((dealerR1 as DkgRound1Msg).ephemeralKey)), ctx);
      const share = openShare(k, ctx, hexToBytes(r2.box)) as Uint8Array;
      const wrong = Fn.toBytes(Fn.add(Fn.fromBytes(share), 1n));
      return { ...e, message: rebox(r2, d, 0, sealShare(k, ctx, wrong)) };
    });
    const complaints = c.delivered.flatMap((e) => (e.message.type === "dkg/complaint" ? [e] : []));
    // A's broadcast, then the same complaint forwarded as evidence to peers still on attempt 0.
    expect(complaints.slice(0, 3).map((e) => e.from)).toEqual([a.id, a.id, a.id]);
    for (const e of complaints)
      expect(e.message).toMatchObject({ accuser: a.id, accused: d.id, attempt: "0x00" });
    for (const m of c.members.slice(0, 3)) {
      expect(c.culprits(m)).toEqual([{ party: d.id, reason: "bad-share", accuser: a.id }]);
      expect(c.result(m)?.group.participants).toEqual(c.members.slice(0, 3));
    }
    expect(c.error(d.id)?.code).toBe(TssErrorCode.DkgExcluded);
    expect(
      signsWith(
        c.members.slice(0, 3).map((m) => c.result(m) as DkgResult),
        utf8ToBytes("x"),
      ),
    ).toBe(true);
  });

  it("an equivocation: D's second signed round 1 to A is proven from the echoes and D is excluded", () => {
    const c = createCluster(3);
    const [a, , , d] = c.keys as [PartyKey, PartyKey, PartyKey, PartyKey];
    c.startAll();
    c.run((e) => {
      if (e.from !== d.id || e.to !== a.id || e.message.type !== "dkg/r1" || e.message.attempt !== "0x00")
        return e;
      const other = frost.DKG.round1(identifierAt(3), { min: 3, max: 4 }).public;
      const alt: DkgRound1Msg = {
        ...e.message,
        commitment: other.commitment.map((x) => bytesToHex(x)),
        proofOfKnowledge: bytesToHex(other.proofOfKnowledge),
      };
      alt.sig = bytesToHex(
        signStatement(d, DkgStatement.Round1, round1Payload(alt.sessionId, alt.attempt, d.id, alt)),
      );
      return { ...e, message: alt };
    });
    expect(count(c.delivered, "dkg/echo")).toBeGreaterThan(0);
    expect(count(c.delivered, "dkg/equivocation")).toBeGreaterThan(0);
    for (const m of c.members.slice(0, 3)) {
      expect(c.culprits(m)).toEqual([{ party: d.id, reason: "equivocation" }]);
      expect(c.result(m)?.excluded).toEqual([{ party: d.id, reason: "equivocation" }]);
      expect(c.result(m)?.group.groupKey).toBe(c.result(c.members[0]!)?.group.groupKey);
    }
    expect(c.error(d.id)?.code).toBe(TssErrorCode.DkgExcluded);
  });

  it("exclusion and retry: a member that missed the complaint buffers the next attempt, gets the evidence, catches up", () => {
    const c = createCluster(4);
    const [a, b, late, d] = c.keys as [PartyKey, PartyKey, PartyKey, PartyKey];
    c.startAll();
    // D's box to A does not decrypt; nobody forwards the complaint to `late`.
    c.run((e) => {
      if (e.message.type === "dkg/complaint" && e.to === late.id) return undefined;
      if (e.from === d.id && e.to === a.id && e.message.type === "dkg/r2" && e.message.attempt === "0x00") {
        const garbled = hexToBytes(e.message.box).map((x, i) => (i === 20 ? x ^ 1 : x));
        return { ...e, message: rebox(e.message, d, 0, garbled) };
      }
      return e;
    });
    const retry = "0x08"; // bit 3: D, the fourth sorted member
    expect(c.states.get(a.id)?.attempt?.mask).toBe(retry);
    expect(c.states.get(late.id)?.attempt?.mask).toBe("0x00");
    expect(c.states.get(late.id)?.buffered.get(retry)?.length).toBeGreaterThan(0);
    expect(c.result(a.id)).toBeUndefined();
    // The driver's resend tick: `late` repeats attempt 0 and is shown the complaint.
    c.step(late.id, { type: "resend" });
    c.run();
    const evidence = c.delivered.filter((e) => e.message.type === "dkg/complaint" && e.to === late.id);
    expect(evidence.length).toBeGreaterThan(0);
    for (const m of [a.id, b.id, late.id]) {
      expect(c.result(m)?.excluded).toEqual([{ party: d.id, reason: "bad-share", accuser: a.id }]);
      expect(c.result(m)?.group.participants).toEqual([a.id, b.id, late.id]);
      expect(c.result(m)?.group.groupKey).toBe(c.result(a.id)?.group.groupKey);
    }
  });

  it("deadline names who is missing; close fails a running core with TSS_CLOSED", () => {
    const c = createCluster(5);
    const [a, b] = c.members as [PartyId, PartyId];
    c.step(a, { type: "start" });
    c.step(b, { type: "start" });
    c.run((e) => (e.to === a || e.to === b ? e : undefined));
    c.step(a, { type: "deadline" });
    expect(c.error(a)).toMatchObject({
      code: TssErrorCode.DkgTimeout,
      details: { missing: c.members.slice(2) },
    });
    c.step(b, { type: "close" });
    expect(c.error(b)?.code).toBe(TssErrorCode.Closed);
    expect(c.states.get(b)?.phase).toBe("closed");
  });
});
