import { bytesToHex, type Hex, hexToBytes } from "@dseq/common";
import { secp256k1 as nativeSecp } from "@dseq/crypto";
import type { DKG_Round1 } from "@noble/curves/abstract/frost.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import type { TArg } from "@noble/curves/utils.js";
import { TssError, TssErrorCode } from "../errors.ts";
import { type PartyId, signStatement } from "../identity.ts";
import type { DkgRound1Msg } from "../messages.ts";
import { frost } from "../suite.ts";
import { attemptId, DkgStatement, round1Payload } from "./dkgStatements.ts";
import { type Attempt, type DkgExclusion, DkgPhase, type DkgStep } from "./dkgTypes.ts";

/** Attempts, exclusion and failure: the parts of the core every round needs. */

/** 48 bytes: what noble's `randomSecretKey` reduces to a scalar for secp256k1. */
const SECRET_SEED_BYTES = 48;

export function log(
  { fx }: DkgStep,
  level: "debug" | "info" | "warn",
  text: string,
  fields: Record<string, unknown> = {},
): void {
  fx.push({ type: "log", level, text, fields });
}

/** A fresh attempt among the members not excluded so far; its round 1 goes out at once. */
export function startAttempt(step: DkgStep): void {
  const { s, fx } = step;
  const { config } = s;
  const self = config.key.id;
  let mask = 0n;
  for (const p of s.excluded.keys()) mask |= 1n << BigInt(s.index.get(p) ?? 0);
  const active = config.members.filter((m) => !s.excluded.has(m));
  if (s.attempt) s.past.set(s.attempt.mask, s.attempt);
  const max = active.length;
  const r1 = frost.DKG.round1(
    s.identifiers[self] as string,
    { min: config.threshold, max },
    undefined,
    config.rng,
  );
  const ephSecret = secp256k1.utils.randomSecretKey(config.rng(SECRET_SEED_BYTES));
  const attempt = attemptId(mask);
  const r1Out = signedRound1(step, attempt, r1.public, ephSecret);
  s.attempt = {
    mask: attempt,
    active,
    pos: new Map(active.map((p, i) => [p, i])),
    max,
    secret: r1.secret,
    ephSecret,
    r1Out,
    r1: new Map([[self, r1Out]]),
    points: new Map(),
    r2Out: new Map(),
    r2In: new Map(),
    oks: new Map(),
    lastReply: new Map(),
  } satisfies Attempt;
  log(step, "debug", "dkg attempt started", { att: attempt, n: max, t: config.threshold });
  fx.push({ type: "broadcast", message: r1Out });
}

function signedRound1(
  { s }: DkgStep,
  attempt: Hex,
  pub: TArg<DKG_Round1>,
  ephSecret: Uint8Array,
): DkgRound1Msg {
  const { sessionId, key } = s.config;
  const m: DkgRound1Msg = {
    type: "dkg/r1",
    sessionId,
    attempt,
    commitment: pub.commitment.map((c) => bytesToHex(c)),
    proofOfKnowledge: bytesToHex(pub.proofOfKnowledge),
    ephemeralKey: bytesToHex(secp256k1.getPublicKey(ephSecret, true)),
    sig: "0x",
  };
  m.sig = bytesToHex(signStatement(key, DkgStatement.Round1, round1Payload(sessionId, attempt, key.id, m)));
  return m;
}

export function exclude(step: DkgStep, x: DkgExclusion): void {
  if (step.s.excluded.has(x.party)) return;
  step.s.excluded.set(x.party, x);
  step.fx.push({ type: "culprit", exclusion: x });
}

/** After an exclusion: fail if we are out or too few are left, else start the next attempt. */
export function restartOrFail(step: DkgStep): void {
  const { s } = step;
  if (s.phase !== DkgPhase.Running) return;
  const self = s.config.key.id;
  if (s.excluded.has(self)) {
    const why = s.excluded.get(self);
    fail(
      step,
      new TssError(TssErrorCode.DkgExcluded, "this party was excluded from the DKG", { details: { ...why } }),
    );
    return;
  }
  const remaining = s.config.members.length - s.excluded.size;
  if (remaining < s.config.threshold) {
    fail(
      step,
      new TssError(TssErrorCode.DkgQuorumLost, "too many culprits: fewer members than the threshold remain", {
        details: { remaining, threshold: s.config.threshold, excluded: [...s.excluded.values()] },
      }),
    );
    return;
  }
  if (s.attempt) {
    if (s.attempt.secret.coefficients) frost.DKG.clean(s.attempt.secret);
    s.attempt.ephSecret.fill(0);
  }
  startAttempt(step);
}

export function fail(step: DkgStep, err: unknown): void {
  const { s } = step;
  if (s.phase !== DkgPhase.Running) return;
  s.phase = DkgPhase.Failed;
  if (s.attempt?.secret.coefficients) frost.DKG.clean(s.attempt.secret);
  step.fx.push({ type: "failed", error: err });
}

/**
 * A dealer's commitment as uncompressed points, decompressed by libsecp256k1 (noble accepts
 * either encoding and re-serializes compressed where it hashes). A point that does not parse
 * is passed on as it came, so that noble refuses it and the culprit search names the dealer.
 */
export function commitmentOf(a: Attempt, p: PartyId): Uint8Array[] {
  let pts = a.points.get(p);
  if (pts) return pts;
  const m = a.r1.get(p) as DkgRound1Msg;
  pts = m.commitment.map((c) => {
    const bytes = hexToBytes(c);
    try {
      return nativeSecp.convertPublicKey(bytes, false);
    } catch {
      return bytes;
    }
  });
  a.points.set(p, pts);
  return pts;
}
