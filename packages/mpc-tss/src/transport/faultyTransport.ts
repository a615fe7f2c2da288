import { bytesToHex, type Hex, hexToBytes } from "@dseq/common";
import { decodeMessage, encodeMessage } from "../codec.ts";
import { complaintPayload, DkgStatement, round1Payload, round2Payload } from "../dkg/dkgStatements.ts";
import { proveDleq } from "../dleq.ts";
import { type PartyId, type PartyKey, sha256, signStatement } from "../identity.ts";
import type { DkgRound1Msg, DkgRound2Msg, TssMessage } from "../messages.ts";
import { ecdhPoint, ecdhWith, openShare, sealShare, shareKey } from "../shareBox.ts";
import { Fn, frost, identifierAt } from "../suite.ts";
import type { TssTransport } from "./transport.ts";

/**
 * Test-only misbehaviour, as transport wrappers: the sessions themselves have no fault
 * switches. A wrapper rewrites what its party sends (or how it reacts to what it receives)
 * and re-signs with the party's key, so honest parties see a validly signed lie and must
 * name the liar.
 */

/** What a misbehaving DKG party does; the others must name it. */
export type DkgFaults = {
  /** Send these recipients a well-encrypted but wrong share. */
  corruptShareFor?: PartyId[];
  /** Send these recipients a box that does not decrypt. */
  garbleBoxFor?: PartyId[];
  /** Complain against this party although its share was good. */
  falseComplaintAgainst?: PartyId;
  /** Send these members a different (validly signed) round-1 message than everyone else. */
  equivocateTo?: PartyId[];
};

export type DkgFaultContext = {
  /** The misbehaving party's long-term key. */
  key: PartyKey;
  /** The DKG's members. */
  members: PartyId[];
  /**
   * Keys of the `corruptShareFor` recipients: the wrapper opens the box with the recipient's
   * key (it does not see the dealer's ephemeral secret), which only a test can do.
   */
  peerKeys?: PartyKey[];
};

const includes = (list: PartyId[] | undefined, p: PartyId): boolean => list?.includes(p) ?? false;

/** `inner` with `faults` applied to one DKG party's traffic. */
export function withDkgFaults(inner: TssTransport, ctx: DkgFaultContext, faults: DkgFaults): TssTransport {
  const { key } = ctx;
  const members = [...ctx.members].sort();
  const identifier = identifierAt(members.indexOf(key.id));
  /** Our alternative round-1 message per attempt, the same one on every resend. */
  const alternatives = new Map<Hex, DkgRound1Msg>();
  /** Round-1 messages received, for the dealer's ephemeral key a complaint needs. */
  const round1In = new Map<string, DkgRound1Msg>();
  /** Our false complaint per attempt, repeated whenever the dealer resends (as honest evidence is). */
  const complaints = new Map<Hex, TssMessage>();

  const alternative = (r1: DkgRound1Msg): DkgRound1Msg => {
    let alt = alternatives.get(r1.attempt);
    if (!alt) {
      const other = frost.DKG.round1(identifier, { min: r1.commitment.length, max: members.length }).public;
      alt = {
        ...r1,
        commitment: other.commitment.map((c) => bytesToHex(c)),
        proofOfKnowledge: bytesToHex(other.proofOfKnowledge),
      };
      const payload = round1Payload(r1.sessionId, r1.attempt, key.id, alt);
      alt.sig = bytesToHex(signStatement(key, DkgStatement.Round1, payload));
      alternatives.set(r1.attempt, alt);
    }
    return alt;
  };

  /** Replaces the recipient's box, fixing its digest and the signature over all digests. */
  const rebox = (r2: DkgRound2Msg, box: Uint8Array): DkgRound2Msg => {
    const pos = positionOf(r2);
    const digests = r2.digests.map((d, i) => (i === pos ? bytesToHex(sha256(box)) : d));
    const payload = round2Payload(
      r2.sessionId,
      r2.attempt,
      key.id,
      hexToBytes(r2.transcript),
      digests.map((d) => hexToBytes(d)),
    );
    return {
      ...r2,
      box: bytesToHex(box),
      digests,
      sig: bytesToHex(signStatement(key, DkgStatement.Round2, payload)),
    };
  };

  /** The recipient's index among the attempt's active members (bit i of the attempt: excluded). */
  const positionOf = (r2: DkgRound2Msg): number => {
    const mask = BigInt(r2.attempt);
    const active = members.filter((_m, i) => !(mask & (1n << BigInt(i))));
    return active.indexOf(r2.to);
  };

  const outbound = (to: PartyId, m: TssMessage): TssMessage => {
    if (m.type === "dkg/r1" && includes(faults.equivocateTo, to)) return alternative(m);
    if (m.type !== "dkg/r2") return m;
    if (includes(faults.garbleBoxFor, to)) {
      return rebox(
        m,
        hexToBytes(m.box).map((b, i) => (i === 20 ? b ^ 1 : b)),
      );
    }
    const victim = includes(faults.corruptShareFor, to) ? ctx.peerKeys?.find((k) => k.id === to) : undefined;
    if (victim) {
      const r1 = round1In.get(`${m.attempt}/${key.id}`);
      if (!r1) return m;
      const boxCtx = { sessionId: m.sessionId, attempt: m.attempt, from: key.id, to };
      const boxKey = shareKey(ecdhWith(victim.secretKey)(hexToBytes(r1.ephemeralKey)), boxCtx);
      const share = openShare(boxKey, boxCtx, hexToBytes(m.box));
      if (!share) return m;
      const wrong = Fn.toBytes(Fn.add(Fn.fromBytes(share), 1n));
      return rebox(m, sealShare(boxKey, boxCtx, wrong));
    }
    return m;
  };

  const complaintAgainst = (r2: DkgRound2Msg, dealer: PartyId): TssMessage | undefined => {
    const earlier = complaints.get(r2.attempt);
    if (earlier) return earlier;
    const r1 = round1In.get(`${r2.attempt}/${dealer}`);
    if (!r1) return undefined;
    const enc = hexToBytes(r1.ephemeralKey);
    const shared = ecdhPoint(key.secretKey, enc);
    const proof = proveDleq(key.secretKey, enc, shared);
    const round2 = { transcript: r2.transcript, box: r2.box, digests: r2.digests, sig: r2.sig };
    const body = complaintPayload(r2.sessionId, r2.attempt, dealer, round2, shared, proof);
    const complaint: TssMessage = {
      type: "dkg/complaint",
      sessionId: r2.sessionId,
      attempt: r2.attempt,
      accuser: key.id,
      accused: dealer,
      round2,
      shared: bytesToHex(shared),
      proof: bytesToHex(proof),
      sig: bytesToHex(signStatement(key, DkgStatement.Complaint, body)),
    };
    complaints.set(r2.attempt, complaint);
    return complaint;
  };

  return {
    self: inner.self,
    broadcast(data) {
      const m = decodeMessage(data);
      if (m?.type === "dkg/r1") round1In.set(`${m.attempt}/${key.id}`, m);
      if (m?.type === "dkg/r1" && faults.equivocateTo?.length) {
        for (const p of members) if (p !== key.id) inner.send(p, encodeMessage(outbound(p, m)));
        return;
      }
      inner.broadcast(data);
    },
    send(to, data) {
      const m = decodeMessage(data);
      if (!m) return inner.send(to, data);
      const out = outbound(to, m);
      inner.send(to, out === m ? data : encodeMessage(out));
    },
    subscribe(handler) {
      return inner.subscribe((msg) => {
        const m = decodeMessage(msg.data);
        if (m?.type === "dkg/r1") round1In.set(`${m.attempt}/${msg.from}`, m);
        if (m?.type === "dkg/r2" && m.to === key.id && msg.from === faults.falseComplaintAgainst) {
          // The liar keeps the good share to itself and accuses its dealer instead.
          // Its own core judges the complaint too (and so learns that it is the one excluded):
          // delivered as if echoed by the accused, since a core ignores messages from itself.
          const complaint = complaintAgainst(m, msg.from);
          if (!complaint) return;
          const data = encodeMessage(complaint);
          inner.broadcast(data);
          handler({ from: msg.from, data });
          return;
        }
        handler(msg);
      });
    },
  };
}

/** What a misbehaving signer does. */
export type SignerFaults = {
  /** Every signature share it sends is off by one. */
  wrongShare?: boolean;
};

/** `inner` with `faults` applied to one signer's outgoing shares. */
export function withSignerFaults(inner: TssTransport, faults: SignerFaults): TssTransport {
  return {
    self: inner.self,
    broadcast: (data) => inner.broadcast(data),
    send(to, data) {
      const m = decodeMessage(data);
      if (faults.wrongShare && m?.type === "sig/share") {
        const z = Fn.toBytes(Fn.add(Fn.fromBytes(hexToBytes(m.share)), 1n));
        inner.send(to, encodeMessage({ ...m, share: bytesToHex(z) }));
        return;
      }
      inner.send(to, data);
    },
    subscribe: (handler) => inner.subscribe(handler),
  };
}
