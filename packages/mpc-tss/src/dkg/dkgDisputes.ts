import { bytesToHex, equalBytes, hexToBytes } from "@dseq/common";
import { proveDleq, verifyDleq } from "../dleq.ts";
import { type PartyId, partyPublicKey, sha256, signStatement, verifyStatement } from "../identity.ts";
import type {
  DkgComplaintMsg,
  DkgEchoMsg,
  DkgEquivocationMsg,
  DkgRound1Msg,
  DkgRound2Msg,
} from "../messages.ts";
import { ecdhPoint, openShare, shareKey } from "../shareBox.ts";
import { commitmentOf, exclude, log, restartOrFail } from "./dkgAttempt.ts";
import {
  complaintPayload,
  DkgStatement,
  round1Digest,
  round1Payload,
  round2Payload,
} from "./dkgStatements.ts";
import { type Attempt, type DkgExclusion, DkgExclusionReason, type DkgStep } from "./dkgTypes.ts";
import { isShareValid } from "./proofs.ts";

/** Complaints, echoes and equivocation proofs: how parties agree on a culprit. */

/** A complaint needs the dealer's signature on what it sent; unsigned garbage is just dropped. */
export function complainIfSigned(step: DkgStep, a: Attempt, accused: PartyId, msg: DkgRound2Msg): void {
  const { s, fx } = step;
  const { sessionId, key, rng } = s.config;
  const digests = msg.digests.map((d) => hexToBytes(d));
  const payload = round2Payload(sessionId, a.mask, accused, hexToBytes(msg.transcript), digests);
  if (!verifyStatement(accused, DkgStatement.Round2, payload, hexToBytes(msg.sig))) {
    log(step, "warn", "dkg share with a bad signature dropped", { peer: accused });
    return;
  }
  const r1 = a.r1.get(accused) as DkgRound1Msg;
  const sharedPoint = ecdhPoint(key.secretKey, hexToBytes(r1.ephemeralKey));
  const proof = proveDleq(key.secretKey, hexToBytes(r1.ephemeralKey), sharedPoint, rng);
  const round2 = { transcript: msg.transcript, box: msg.box, digests: msg.digests, sig: msg.sig };
  const body = complaintPayload(sessionId, a.mask, accused, round2, sharedPoint, proof);
  const complaint: DkgComplaintMsg = {
    type: "dkg/complaint",
    sessionId,
    attempt: a.mask,
    accuser: key.id,
    accused,
    round2,
    shared: bytesToHex(sharedPoint),
    proof: bytesToHex(proof),
    sig: bytesToHex(signStatement(key, DkgStatement.Complaint, body)),
  };
  log(step, "warn", "dkg complaint raised", { accused, att: a.mask });
  fx.push({ type: "broadcast", message: complaint });
  onComplaint(step, complaint);
}

/**
 * Judges a complaint from what every party can check: the accused's signature on the box,
 * the DLEQ proof of the revealed ECDH point, then the box and the share themselves.
 */
export function onComplaint(step: DkgStep, c: DkgComplaintMsg): void {
  const { s } = step;
  const { sessionId, threshold } = s.config;
  const accuser = c.accuser;
  if (s.excluded.has(c.accused) || s.excluded.has(accuser)) return;
  const a = s.attempt?.mask === c.attempt ? s.attempt : s.past.get(c.attempt);
  if (!a?.transcript || !a.pos.has(accuser) || !a.pos.has(c.accused) || accuser === c.accused) return;
  const shared = hexToBytes(c.shared);
  const proof = hexToBytes(c.proof);
  const body = complaintPayload(sessionId, c.attempt, c.accused, c.round2, shared, proof);
  if (!verifyStatement(accuser, DkgStatement.Complaint, body, hexToBytes(c.sig))) return;
  const culprit = ((): DkgExclusion => {
    const guiltyAccuser = { party: accuser, reason: DkgExclusionReason.FalseComplaint, accuser };
    const guiltyDealer = { party: c.accused, reason: DkgExclusionReason.BadShare, accuser };
    const digests = c.round2.digests.map((d) => hexToBytes(d));
    const r2Body = round2Payload(sessionId, c.attempt, c.accused, hexToBytes(c.round2.transcript), digests);
    if (!verifyStatement(c.accused, DkgStatement.Round2, r2Body, hexToBytes(c.round2.sig)))
      return guiltyAccuser;
    if (!equalBytes(hexToBytes(c.round2.transcript), a.transcript as Uint8Array)) return guiltyAccuser;
    const box = hexToBytes(c.round2.box);
    const slot = digests[a.pos.get(accuser) as number];
    if (digests.length !== a.active.length || !slot || !equalBytes(slot, sha256(box))) return guiltyAccuser;
    const r1 = a.r1.get(c.accused) as DkgRound1Msg;
    if (!verifyDleq(partyPublicKey(accuser), hexToBytes(r1.ephemeralKey), shared, proof))
      return guiltyAccuser;
    const ctx = { sessionId, attempt: c.attempt, from: c.accused, to: accuser };
    const share = openShare(shareKey(shared.subarray(1), ctx), ctx, box);
    if (share?.length !== 32) return guiltyDealer;
    const ok = isShareValid(
      s.identifiers[accuser] as string,
      share,
      commitmentOf(a, c.accused),
      threshold,
      a.max,
    );
    return ok ? guiltyAccuser : guiltyDealer;
  })();
  s.evidence.set(culprit.party, c);
  log(step, "warn", "dkg culprit named", { culprit: culprit.party, reason: culprit.reason, accuser });
  exclude(step, culprit);
  restartOrFail(step);
}

/**
 * Someone's round-1 transcript differs from ours: echo every round-1 message we hold, so
 * that whoever holds a different signed version of one of them can prove the equivocation.
 */
export function dispute(step: DkgStep, a: Attempt, peer: PartyId): void {
  if (a.echoes) return;
  const { sessionId } = step.s.config;
  log(step, "warn", "dkg round-1 transcript mismatch; echoing round 1", { peer, att: a.mask });
  a.echoes = [...a.r1].map(
    ([party, r]): DkgEchoMsg => ({
      type: "dkg/echo",
      sessionId,
      attempt: a.mask,
      party,
      round1: {
        commitment: r.commitment,
        proofOfKnowledge: r.proofOfKnowledge,
        ephemeralKey: r.ephemeralKey,
        sig: r.sig,
      },
    }),
  );
  for (const e of a.echoes) step.fx.push({ type: "broadcast", message: e });
}

export function onEcho(step: DkgStep, e: DkgEchoMsg): void {
  const { s } = step;
  const a = s.attempt?.mask === e.attempt ? s.attempt : s.past.get(e.attempt);
  if (!a || s.excluded.has(e.party)) return;
  const mine = a.r1.get(e.party);
  if (!mine) return;
  if (!equalBytes(round1Digest(e.party, mine), round1Digest(e.party, e.round1))) {
    const payload = round1Payload(s.config.sessionId, e.attempt, e.party, e.round1);
    if (!verifyStatement(e.party, DkgStatement.Round1, payload, hexToBytes(e.round1.sig))) return;
    const proof: DkgEquivocationMsg = {
      type: "dkg/equivocation",
      sessionId: s.config.sessionId,
      attempt: e.attempt,
      party: e.party,
      first: {
        commitment: mine.commitment,
        proofOfKnowledge: mine.proofOfKnowledge,
        ephemeralKey: mine.ephemeralKey,
        sig: mine.sig,
      },
      second: e.round1,
    };
    step.fx.push({ type: "broadcast", message: proof });
    onEquivocation(step, proof);
    return;
  }
  // Someone saw a mismatch: help find it by echoing our view too.
  if (a === s.attempt && a.transcript) dispute(step, a, e.party);
}

/** Two different round-1 messages, both signed by `party` for this session and attempt. */
export function onEquivocation(step: DkgStep, q: DkgEquivocationMsg): void {
  const { s } = step;
  if (s.excluded.has(q.party) || !s.index.has(q.party)) return;
  if (equalBytes(round1Digest(q.party, q.first), round1Digest(q.party, q.second))) return;
  for (const b of [q.first, q.second]) {
    const payload = round1Payload(s.config.sessionId, q.attempt, q.party, b);
    if (!verifyStatement(q.party, DkgStatement.Round1, payload, hexToBytes(b.sig))) return;
  }
  s.evidence.set(q.party, q);
  log(step, "warn", "dkg culprit named", { culprit: q.party, reason: DkgExclusionReason.Equivocation });
  exclude(step, { party: q.party, reason: DkgExclusionReason.Equivocation });
  restartOrFail(step);
}
