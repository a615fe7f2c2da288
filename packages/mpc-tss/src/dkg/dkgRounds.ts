import { bytesToHex, equalBytes, hexToBytes } from "@dseq/common";
import type { DKG_Round1 } from "@noble/curves/abstract/frost.js";
import type { TArg } from "@noble/curves/utils.js";
import { TssError, TssErrorCode } from "../errors.ts";
import { fastFrost } from "../fastFrost.ts";
import { type PartyId, partyPublicKey, sha256, signStatement, verifyStatement } from "../identity.ts";
import { groupInfoFromFrost, type KeyShare } from "../keyShare.ts";
import type { DkgOkMsg, DkgRound1Msg, DkgRound2Msg } from "../messages.ts";
import { ecdhWith, openShare, sealShare, shareKey } from "../shareBox.ts";
import { frost } from "../suite.ts";
import { commitmentOf, exclude, log, restartOrFail } from "./dkgAttempt.ts";
import { complainIfSigned, dispute } from "./dkgDisputes.ts";
import {
  DkgStatement,
  okPayload,
  round1Digest,
  round1Payload,
  round2Payload,
  transcriptHash,
} from "./dkgStatements.ts";
import { type Attempt, DkgExclusionReason, DkgPhase, type DkgStep } from "./dkgTypes.ts";
import { isProofOfKnowledgeValid, isShareValid } from "./proofs.ts";

/**
 * The three rounds of one attempt. Each handler returns true when the message repeats one we
 * already hold (the sender has not heard from us, so the core answers it).
 */

const ZERO32 = new Uint8Array(32);

export function onRound1(step: DkgStep, a: Attempt, from: PartyId, msg: DkgRound1Msg): boolean {
  const { sessionId, threshold } = step.s.config;
  if (a.r1.get(from)) return true;
  if (msg.commitment.length !== threshold) return false;
  const payload = round1Payload(sessionId, a.mask, from, msg);
  if (!verifyStatement(from, DkgStatement.Round1, payload, hexToBytes(msg.sig))) return false;
  a.r1.set(from, msg);
  if (a.r1.size === a.active.length) round2(step, a);
  return false;
}

function round1Packages(step: DkgStep, a: Attempt, others: PartyId[]): TArg<DKG_Round1>[] {
  return others.map((p) => ({
    identifier: step.s.identifiers[p] as string,
    commitment: commitmentOf(a, p),
    proofOfKnowledge: hexToBytes((a.r1.get(p) as DkgRound1Msg).proofOfKnowledge),
  }));
}

/** Round 1 is complete: fix the transcript, deal a share to each peer, encrypted to it. */
function round2(step: DkgStep, a: Attempt): void {
  const { s, fx } = step;
  const { sessionId, key, rng } = s.config;
  a.transcript = transcriptHash(
    sessionId,
    a.mask,
    a.active.map((p) => round1Digest(p, a.r1.get(p) as DkgRound1Msg)),
  );
  const others = a.active.filter((p) => p !== key.id);
  const packages = round1Packages(step, a, others);
  let out: Record<string, { signingShare: Uint8Array }>;
  try {
    out = frost.DKG.round2(a.secret, packages);
  } catch (err) {
    const culprits = others.filter((_p, i) => {
      const pkg = packages[i] as TArg<DKG_Round1>;
      return !isProofOfKnowledgeValid(pkg.identifier, pkg.commitment, pkg.proofOfKnowledge);
    });
    if (culprits.length === 0) throw err;
    for (const c of culprits) exclude(step, { party: c, reason: DkgExclusionReason.BadProofOfKnowledge });
    restartOrFail(step);
    return;
  }
  const boxes = new Map<PartyId, Uint8Array>();
  const ecdh = ecdhWith(a.ephSecret);
  for (const p of others) {
    const pkg = out[s.identifiers[p] as string];
    if (!pkg) throw new TssError(TssErrorCode.BadParams, "noble returned no share for a peer");
    const ctx = { sessionId, attempt: a.mask, from: key.id, to: p };
    boxes.set(p, sealShare(shareKey(ecdh(partyPublicKey(p)), ctx), ctx, pkg.signingShare, rng));
  }
  const digests = a.active.map((p) => {
    const b = boxes.get(p);
    return b ? sha256(b) : ZERO32;
  });
  const sig = signStatement(
    key,
    DkgStatement.Round2,
    round2Payload(sessionId, a.mask, key.id, a.transcript, digests),
  );
  const digestsHex = digests.map((d) => bytesToHex(d));
  for (const p of others) {
    const r2: DkgRound2Msg = {
      type: "dkg/r2",
      sessionId,
      attempt: a.mask,
      to: p,
      transcript: bytesToHex(a.transcript),
      box: bytesToHex(boxes.get(p) as Uint8Array),
      digests: digestsHex,
      sig: bytesToHex(sig),
    };
    a.r2Out.set(p, r2);
    fx.push({ type: "send", to: p, message: r2 });
  }
  // Shares that arrived before our own round 1 was complete.
  const early = [...a.r2In];
  a.r2In.clear();
  for (const [p, { msg }] of early) onRound2(step, a, p, msg);
}

export function onRound2(step: DkgStep, a: Attempt, from: PartyId, msg: DkgRound2Msg): boolean {
  const { s } = step;
  const { sessionId, key } = s.config;
  if (msg.to !== key.id) return false;
  if (a.r2In.has(from) && a.transcript) return true;
  if (!a.transcript) {
    // Keep it until our round 1 is complete (the loop in round2() replays it).
    a.r2In.set(from, { msg, share: new Uint8Array() });
    return false;
  }
  if (!equalBytes(hexToBytes(msg.transcript), a.transcript)) {
    dispute(step, a, from);
    return false;
  }
  if (msg.digests.length !== a.active.length) return false;
  const myPos = a.pos.get(key.id) as number;
  const box = hexToBytes(msg.box);
  const r1 = a.r1.get(from) as DkgRound1Msg;
  const ctx = { sessionId, attempt: a.mask, from, to: key.id };
  const share = equalBytes(sha256(box), hexToBytes(msg.digests[myPos] as string))
    ? openShare(shareKey(ecdhWith(key.secretKey)(hexToBytes(r1.ephemeralKey)), ctx), ctx, box)
    : undefined;
  if (share?.length !== 32) {
    complainIfSigned(step, a, from, msg);
    return false;
  }
  a.r2In.set(from, { msg, share });
  if (a.r2In.size === a.active.length - 1) round3(step, a);
  return false;
}

/** Every share is in: derive our key share, or complain about the shares that do not fit. */
function round3(step: DkgStep, a: Attempt): void {
  const { s, fx } = step;
  const { sessionId, key, threshold } = s.config;
  const others = a.active.filter((p) => p !== key.id);
  const round1 = round1Packages(step, a, others);
  const round2 = others.map((p) => ({
    identifier: s.identifiers[p] as string,
    signingShare: (a.r2In.get(p) as { share: Uint8Array }).share,
  }));
  try {
    a.key = fastFrost.dkgRound3(a.secret, round1, round2);
  } catch (err) {
    // noble refused some share without naming its dealer: check each one and complain.
    let found = false;
    for (const [i, p] of others.entries()) {
      const pkg = round1[i] as TArg<DKG_Round1>;
      const share = (round2[i] as { signingShare: Uint8Array }).signingShare;
      if (isShareValid(s.identifiers[key.id] as string, share, pkg.commitment, threshold, a.max)) continue;
      found = true;
      const entry = a.r2In.get(p) as { msg: DkgRound2Msg };
      a.r2In.delete(p);
      complainIfSigned(step, a, p, entry.msg);
      if (s.attempt !== a) return;
    }
    if (!found) throw err;
    return;
  }
  const groupKey = a.key.public.commitments[0] as Uint8Array;
  const body = okPayload(sessionId, a.mask, a.transcript as Uint8Array, groupKey);
  a.okOut = {
    type: "dkg/ok",
    sessionId,
    attempt: a.mask,
    transcript: bytesToHex(a.transcript as Uint8Array),
    groupKey: bytesToHex(groupKey),
    sig: bytesToHex(signStatement(key, DkgStatement.Ok, body)),
  };
  a.oks.set(key.id, a.okOut);
  fx.push({ type: "broadcast", message: a.okOut });
  // Confirmations that arrived before our own key was ready.
  const early = [...a.oks].filter(([p]) => p !== key.id);
  for (const [p] of early) a.oks.delete(p);
  for (const [p, m] of early) onOk(step, a, p, m);
  maybeFinish(step, a);
}

export function onOk(step: DkgStep, a: Attempt, from: PartyId, msg: DkgOkMsg): boolean {
  if (a.oks.has(from)) return true;
  if (!a.key) {
    a.oks.set(from, msg); // judged once our own key exists
    return false;
  }
  const groupKey = a.key.public.commitments[0] as Uint8Array;
  const body = okPayload(
    step.s.config.sessionId,
    a.mask,
    hexToBytes(msg.transcript),
    hexToBytes(msg.groupKey),
  );
  if (!verifyStatement(from, DkgStatement.Ok, body, hexToBytes(msg.sig))) return false;
  if (!equalBytes(hexToBytes(msg.transcript), a.transcript as Uint8Array)) {
    dispute(step, a, from);
    return false;
  }
  if (msg.groupKey !== bytesToHex(groupKey)) {
    throw new TssError(TssErrorCode.DkgTranscriptMismatch, "a peer finished with a different group key", {
      details: { peer: from, att: a.mask },
    });
  }
  a.oks.set(from, msg);
  maybeFinish(step, a);
  return false;
}

function maybeFinish(step: DkgStep, a: Attempt): void {
  const { s } = step;
  const { epoch, sessionId, members, threshold, key: self } = s.config;
  if (s.phase !== DkgPhase.Running || !a.key || a.oks.size !== a.active.length) return;
  const key = a.key;
  const group = groupInfoFromFrost(key.public, {
    epoch,
    sessionId,
    members,
    participants: a.active,
    threshold,
    identifiers: Object.fromEntries(a.active.map((p) => [p, s.identifiers[p] as string])),
  });
  const keyShare: KeyShare = {
    group,
    self: self.id,
    identifier: key.secret.identifier,
    signingShare: key.secret.signingShare,
  };
  s.phase = DkgPhase.Done;
  log(step, "info", "dkg complete", {
    groupKey: group.groupKey,
    participants: a.active.length,
    excluded: s.excluded.size,
  });
  step.fx.push({
    type: "done",
    result: {
      keyShare,
      group,
      excluded: [...s.excluded.values()],
      confirmations: a.active.map((p) => ({ party: p, sig: (a.oks.get(p) as DkgOkMsg).sig })),
    },
  });
}
