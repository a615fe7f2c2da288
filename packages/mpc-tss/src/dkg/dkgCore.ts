import { TssError, TssErrorCode } from "../errors.ts";
import type { PartyId } from "../identity.ts";
import type { TssMessage } from "../messages.ts";
import { identifierAt } from "../suite.ts";
import { fail, startAttempt } from "./dkgAttempt.ts";
import { onComplaint, onEcho, onEquivocation } from "./dkgDisputes.ts";
import { onOk, onRound1, onRound2 } from "./dkgRounds.ts";
import {
  type Attempt,
  type DkgCoreConfig,
  type DkgEffect,
  type DkgInput,
  DkgPhase,
  type DkgState,
  type DkgStep,
  type DkgStepResult,
} from "./dkgTypes.ts";

/**
 * The pure DKG core: `stepDkg(state, input) -> {state, effects}`. No timers, no transport, no
 * clock (time comes in with each message), no randomness but `config.rng`: a test drives it
 * with exact message sequences. The driver (`dkgSession.ts`) decodes transport messages into
 * inputs, ticks `resend` and `deadline`, and carries out the effects.
 *
 * The protocol (noble's `secp256k1_FROST.DKG` does the math):
 * 1. round 1 (broadcast): commitment, proof of knowledge, an ephemeral ECDH key;
 * 2. round 2 (direct): the share for each peer, encrypted to it, with the sender's hash of the
 *    whole round-1 transcript and the digests of all its boxes, signed by its long-term key;
 *    a recipient only uses shares whose transcript hash equals its own, so round 1 is the same
 *    for everyone;
 * 3. a bad share leads to a signed complaint that reveals the ECDH point (with a DLEQ proof);
 *    every party opens the box itself and names the culprit (the dealer, or a false accuser),
 *    which is excluded, and a new attempt starts among the rest;
 * 4. each party broadcasts a signed `ok` with the group key; the key is final when every
 *    participant's `ok` agrees.
 *
 * Messages are retransmitted (on `resend`) until acknowledged by the next step, so drops only
 * cost time.
 */
export function createDkgState(config: DkgCoreConfig): DkgState {
  const { members, threshold, key } = config;
  if (threshold < 2 || threshold > members.length) {
    throw new TssError(TssErrorCode.BadParams, "threshold out of range", {
      details: { threshold, n: members.length },
    });
  }
  if (!members.includes(key.id)) {
    throw new TssError(TssErrorCode.BadParams, "this party is not a member", { details: { self: key.id } });
  }
  const identifiers: Record<PartyId, string> = {};
  const index = new Map<PartyId, number>();
  members.forEach((m, i) => {
    index.set(m, i);
    identifiers[m] = identifierAt(i);
  });
  return {
    config,
    phase: DkgPhase.Idle,
    identifiers,
    index,
    excluded: new Map(),
    evidence: new Map(),
    past: new Map(),
    buffered: new Map(),
    attempt: undefined,
  };
}

export function stepDkg(state: DkgState, input: DkgInput): DkgStepResult {
  const step: DkgStep = { s: state, fx: [] };
  switch (input.type) {
    case "start":
      if (state.phase !== DkgPhase.Idle) break;
      state.phase = DkgPhase.Running;
      startAttempt(step);
      break;
    case "message":
      onInbound(step, input.from, input.message, input.now);
      break;
    case "resend":
      onResend(step);
      break;
    case "deadline":
      onDeadline(step);
      break;
    case "close":
      if (state.phase === DkgPhase.Running)
        fail(step, new TssError(TssErrorCode.Closed, "DKG session closed"));
      state.phase = DkgPhase.Closed;
      break;
  }
  // A new attempt replays what arrived for it early.
  for (let a = state.attempt; a && state.buffered.has(a.mask); a = state.attempt) {
    const queued = state.buffered.get(a.mask) ?? [];
    state.buffered.delete(a.mask);
    for (const q of queued) onInbound(step, q.from, q.message, q.now);
  }
  return { state, effects: step.fx };
}

/** Effects that (re)send everything `p` may still miss from us in attempt `a`. */
function sendAllTo(fx: DkgEffect[], a: Attempt, p: PartyId): void {
  fx.push({ type: "send", to: p, message: a.r1Out });
  const r2 = a.r2Out.get(p);
  if (r2) fx.push({ type: "send", to: p, message: r2 });
  if (a.okOut) fx.push({ type: "send", to: p, message: a.okOut });
}

function onResend({ s, fx }: DkgStep): void {
  if (s.phase !== DkgPhase.Running) return;
  const a = s.attempt;
  if (!a) return;
  for (const p of a.active) if (p !== s.config.key.id && !a.oks.has(p)) sendAllTo(fx, a, p);
  if (a.echoes) for (const e of a.echoes) fx.push({ type: "broadcast", message: e });
}

function onDeadline(step: DkgStep): void {
  const { s } = step;
  if (s.phase !== DkgPhase.Running) return;
  const a = s.attempt;
  // Name who is holding up the earliest incomplete step.
  const others = a ? a.active.filter((p) => p !== s.config.key.id) : [];
  const noR1 = others.filter((p) => !a?.r1.has(p));
  const noR2 = others.filter((p) => !a?.r2In.has(p));
  const missing = noR1.length ? noR1 : noR2.length ? noR2 : others.filter((p) => !a?.oks.has(p));
  fail(
    step,
    new TssError(TssErrorCode.DkgTimeout, "DKG did not complete before its deadline", {
      details: { att: a?.mask, missing, excluded: [...s.excluded.values()] },
    }),
  );
}

function onInbound(step: DkgStep, from: PartyId, msg: TssMessage, now: number): void {
  const { s } = step;
  if (s.phase !== DkgPhase.Running && s.phase !== DkgPhase.Done) return;
  if (msg.sessionId !== s.config.sessionId || !s.index.has(from) || from === s.config.key.id) return;
  try {
    onMessage(step, from, msg, now);
  } catch (err) {
    fail(step, err);
  }
}

function onMessage(step: DkgStep, from: PartyId, msg: TssMessage, now: number): void {
  const { s, fx } = step;
  switch (msg.type) {
    case "dkg/complaint":
      onComplaint(step, msg);
      return;
    case "dkg/echo":
      onEcho(step, msg);
      return;
    case "dkg/equivocation":
      onEquivocation(step, msg);
      return;
    case "dkg/r1":
    case "dkg/r2":
    case "dkg/ok":
      break;
    default:
      return;
  }
  const a = s.attempt;
  if (!a) return;
  if (msg.attempt !== a.mask) {
    const theirs = BigInt(msg.attempt);
    const mine = BigInt(a.mask);
    if ((theirs & mine) === mine && s.phase === DkgPhase.Running) {
      // They know of more culprits than we do; their complaint is on its way.
      const q = s.buffered.get(msg.attempt) ?? [];
      if (q.length < 4 * s.config.members.length) q.push({ from, message: msg, now });
      s.buffered.set(msg.attempt, q);
    } else if ((theirs & mine) === theirs) {
      // They are behind: show them why we moved on.
      for (const [p, ev] of s.evidence) {
        if (!(theirs & (1n << BigInt(s.index.get(p) ?? 0)))) fx.push({ type: "send", to: from, message: ev });
      }
    }
    return;
  }
  if (!a.pos.has(from)) return;
  const duplicate =
    msg.type === "dkg/r1"
      ? onRound1(step, a, from, msg)
      : msg.type === "dkg/r2"
        ? onRound2(step, a, from, msg)
        : onOk(step, a, from, msg);
  // A peer repeating itself has not heard from us: answer it (rate-limited).
  if (duplicate && now - (a.lastReply.get(from) ?? -Infinity) >= s.config.resendIntervalMs / 2) {
    a.lastReply.set(from, now);
    sendAllTo(fx, a, from);
  }
}
