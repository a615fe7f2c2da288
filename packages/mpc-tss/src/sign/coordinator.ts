import { randomBytes } from "node:crypto";
import {
  bytesToHex,
  type Clock,
  createNoopLogger,
  type Hex,
  hexToBytes,
  type Logger,
  type Metrics,
  realClock,
} from "@dseq/common";
import type { FrostPublic } from "@noble/curves/abstract/frost.js";
import type { TArg } from "@noble/curves/utils.js";
import { decodeMessage, encodeMessage } from "../codec.ts";
import { TssError, TssErrorCode } from "../errors.ts";
import { fastFrost } from "../fastFrost.ts";
import type { PartyId, PartyKey } from "../identity.ts";
import { type GroupInfo, toFrostPublic } from "../keyShare.ts";
import {
  type NonceCommitmentWire,
  RefuseReason,
  type SignRefuseMsg,
  type SignRequestMsg,
  type SignShareMsg,
  type TssMessage,
} from "../messages.ts";
import { createTssMetrics, type TssMetrics } from "../metrics.ts";
import type { TransportMessage, TssTransport } from "../transport/transport.ts";

export type SignRequest = {
  /** Public data of the key to sign with (from the DKG / key store). */
  group: GroupInfo;
  message: Uint8Array;
  /** Passed to every signer's `approve` hook, e.g. `{kind: "batch", index: 12}`. */
  context?: Record<string, unknown>;
  /** Give up after this long. Default 30 s. */
  deadlineMs?: number;
  /** Default: random. */
  sessionId?: Hex;
  /**
   * Extra condition on a signing set besides the threshold count (e.g. the node's check that
   * the set holds more than 2/3 of the voting power). An attempt starts with the shortest
   * prefix of the responsive members that has at least `threshold` members and satisfies it.
   */
  quorum?: (parties: readonly PartyId[]) => boolean;
};

export const SignExclusionReason = {
  BadShare: "bad-share",
  Refused: "refused",
} as const;
export type SignExclusionReason = (typeof SignExclusionReason)[keyof typeof SignExclusionReason];

export type SignResult = {
  sessionId: Hex;
  /** RFC 9591 encoding: R (33 bytes, compressed) || z (32 bytes). */
  signature: Uint8Array;
  /** The quorum whose shares made the signature. */
  signers: PartyId[];
  /** Attempts started (1 when the first chosen quorum signed). */
  attempts: number;
  /** Members kept out of this session, with why. */
  excluded: { party: PartyId; reason: SignExclusionReason }[];
};

export type CoordinatorOptions = {
  /** Repeat unanswered messages this often. Default 250 ms. */
  resendIntervalMs?: number;
  /**
   * `lazy` (default): aggregate, verify the signature, and only if it fails verify each share
   * to name the bad signers (RFC 9591 §5.3). `eager`: verify every share as it arrives.
   * Either way no bad signature is ever returned and bad signers are excluded.
   */
  shareVerification?: "lazy" | "eager";
  /**
   * While an attempt is still live and a share arrived for it within this window, do not
   * start another one with the members that have answered (ROAST would start one at once;
   * that costs every signer a second share in the common case where the first attempt is
   * about to finish). A stalled attempt (no share for this long) is overtaken; a dead one
   * (bad share, refusal) at once. Default 500 ms.
   */
  attemptPatienceMs?: number;
};

export type CoordinatorModules = {
  key: PartyKey;
  transport: TssTransport;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
};

type AttemptState = {
  attempt: number;
  signers: { party: PartyId; commitment: NonceCommitmentWire }[];
  request: Uint8Array;
  shares: Map<PartyId, Uint8Array>;
  dead: boolean;
  /** Start, then the arrival of the latest share: an attempt is stalled when this gets old. */
  lastProgress: number;
};

type Session = {
  sessionId: Hex;
  group: GroupInfo;
  pub: TArg<FrostPublic>;
  message: Uint8Array;
  context: Record<string, unknown>;
  quorum: (parties: readonly PartyId[]) => boolean;
  /** Signers with a fresh commitment and no open attempt (ROAST's "responsive" set). */
  ready: Map<PartyId, NonceCommitmentWire>;
  busy: Map<PartyId, number>;
  excluded: Map<PartyId, SignExclusionReason>;
  attempts: Map<number, AttemptState>;
  nextAttempt: number;
  startMsg: Uint8Array;
  resolve: (r: SignResult) => void;
  reject: (e: unknown) => void;
  cancel: (() => void)[];
  done: boolean;
  startedAt: number;
};

/**
 * Coordinates signing sessions with ROAST's idea on top of FROST: every member is asked for a
 * nonce commitment; as soon as `t` responsive members have one, an attempt starts with them;
 * each member that answers comes back with its next commitment, so a new attempt can start
 * with whoever is responsive while a stalled attempt (a member gone silent) simply never
 * finishes. Bad shares and refusals exclude their sender. The first attempt whose shares
 * aggregate into a valid signature wins; the session fails at its deadline or as soon as fewer
 * than `t` members are left. Any member may coordinate; sessions run concurrently.
 */
export class SigningCoordinator {
  private readonly sessions = new Map<Hex, Session>();
  private readonly opts: Required<CoordinatorOptions>;
  private readonly key: PartyKey;
  private readonly transport: TssTransport;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: TssMetrics | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(opts: CoordinatorOptions, modules: CoordinatorModules) {
    this.opts = {
      resendIntervalMs: opts.resendIntervalMs ?? 250,
      shareVerification: opts.shareVerification ?? "lazy",
      attemptPatienceMs: opts.attemptPatienceMs ?? 500,
    };
    this.key = modules.key;
    this.transport = modules.transport;
    this.clock = modules.clock ?? realClock;
    this.log = (modules.logger ?? createNoopLogger()).child({ module: "tss-coordinator" });
    this.metrics = createTssMetrics(modules.metrics);
  }

  start(): this {
    this.unsubscribe ??= this.transport.subscribe((m) => this.onTransport(m));
    return this;
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const s of this.sessions.values()) {
      this.finish(s, undefined, new TssError(TssErrorCode.Closed, "coordinator stopped"));
    }
  }

  /** Runs one signing session to its end. */
  sign(req: SignRequest): Promise<SignResult> {
    this.start();
    const sid = req.sessionId ?? bytesToHex(randomBytes(32));
    if (this.sessions.has(sid))
      throw new TssError(TssErrorCode.BadParams, "session id in use", { details: { sid } });
    return new Promise<SignResult>((resolve, reject) => {
      const s: Session = {
        sessionId: sid,
        group: req.group,
        pub: toFrostPublic(req.group),
        message: req.message.slice(),
        context: req.context ?? {},
        quorum: req.quorum ?? (() => true),
        ready: new Map(),
        busy: new Map(),
        excluded: new Map(),
        attempts: new Map(),
        nextAttempt: 1,
        startMsg: encodeMessage({ type: "sig/start", sessionId: sid, groupKey: req.group.groupKey }),
        resolve,
        reject,
        cancel: [],
        done: false,
        startedAt: this.clock.now(),
      };
      this.sessions.set(sid, s);
      s.cancel.push(this.clock.setTimeout(() => this.onDeadline(s), req.deadlineMs ?? 30_000));
      this.log.debug("signing session started", { sid, participants: req.group.participants.length });
      this.askForCommitments(s);
      s.cancel.push(this.clock.setTimeout(() => this.onResend(s), this.opts.resendIntervalMs));
    });
  }

  /** Every resend interval: ask again whoever we still wait for, and retry stalled attempts. */
  private onResend(s: Session): void {
    if (s.done) return;
    this.askForCommitments(s);
    this.maybeStartAttempt(s);
    for (const [attempt, a] of s.attempts) {
      for (const x of a.signers) {
        if (a.shares.has(x.party)) continue;
        // A dead attempt's members stay busy until they answer it; if their answer was
        // lost they would stay busy for good, so they are asked again too (answers are
        // cached by the signer, so this costs them nothing).
        if (!a.dead || s.busy.get(x.party) === attempt) this.transport.send(x.party, a.request);
      }
    }
    s.cancel.push(this.clock.setTimeout(() => this.onResend(s), this.opts.resendIntervalMs));
  }

  private askForCommitments(s: Session): void {
    // Only members we still wait for: not excluded, not on offer, not in an open attempt.
    for (const p of s.group.participants) {
      if (s.excluded.has(p) || s.ready.has(p) || s.busy.has(p)) continue;
      this.transport.send(p, s.startMsg);
    }
  }

  private onTransport(m: TransportMessage): void {
    const msg = decodeMessage(m.data);
    if (!msg || (msg.type !== "sig/commit" && msg.type !== "sig/share" && msg.type !== "sig/refuse")) return;
    const s = this.sessions.get(msg.sessionId);
    if (!s || s.done || !s.group.participants.includes(m.from) || s.excluded.has(m.from)) return;
    try {
      if (msg.type === "sig/commit") this.offer(s, m.from, msg.commitment);
      else if (msg.type === "sig/share") this.onShare(s, m.from, msg);
      else this.onRefuse(s, m.from, msg);
    } catch (err) {
      this.finish(s, undefined, err);
    }
  }

  private offer(s: Session, from: PartyId, c: NonceCommitmentWire): void {
    if (s.busy.has(from) || s.excluded.has(from)) return;
    s.ready.set(from, c);
    this.maybeStartAttempt(s);
  }

  private maybeStartAttempt(s: Session): void {
    if (s.done || s.ready.size < s.group.threshold) return;
    const now = this.clock.now();
    for (const a of s.attempts.values()) {
      if (!a.dead && now - a.lastProgress < this.opts.attemptPatienceMs) return;
    }
    const chosen = pickSigners([...s.ready], s.group.threshold, s.quorum);
    if (!chosen) return;
    const attempt = s.nextAttempt++;
    const signers = chosen.map(([party, commitment]) => ({ party, commitment }));
    const req: SignRequestMsg = {
      type: "sig/request",
      sessionId: s.sessionId,
      attempt,
      groupKey: s.group.groupKey,
      message: bytesToHex(s.message),
      context: s.context,
      signers,
    };
    const a: AttemptState = {
      attempt,
      signers,
      request: encodeMessage(req),
      shares: new Map(),
      dead: false,
      lastProgress: now,
    };
    s.attempts.set(attempt, a);
    for (const [p] of chosen) {
      s.ready.delete(p);
      s.busy.set(p, attempt);
    }
    this.log.debug("signing attempt started", { sid: s.sessionId, att: attempt, signers: signers.length });
    this.metrics?.signAttempts.inc();
    for (const x of signers) this.transport.send(x.party, a.request);
  }

  private commitmentList(
    a: AttemptState,
    s: Session,
  ): { identifier: string; hiding: Uint8Array; binding: Uint8Array }[] {
    return a.signers.map((x) => ({
      identifier: s.group.identifiers[x.party] as string,
      hiding: hexToBytes(x.commitment.hiding),
      binding: hexToBytes(x.commitment.binding),
    }));
  }

  private onShare(s: Session, from: PartyId, msg: SignShareMsg): void {
    const a = s.attempts.get(msg.attempt);
    if (!a?.signers.some((x) => x.party === from) || a.shares.has(from)) return;
    const share = hexToBytes(msg.share);
    if (this.opts.shareVerification === "eager") {
      const ok = fastFrost.verifyShare(
        s.pub,
        this.commitmentList(a, s),
        s.message,
        s.group.identifiers[from] as string,
        share,
      );
      if (!ok) {
        a.dead = true;
        this.excludeSigner(s, from, SignExclusionReason.BadShare);
        this.maybeStartAttempt(s);
        return;
      }
    }
    a.shares.set(from, share);
    a.lastProgress = this.clock.now();
    if (s.busy.get(from) === msg.attempt) s.busy.delete(from);
    if (msg.next) this.offer(s, from, msg.next);
    if (!a.dead && a.shares.size === a.signers.length) this.aggregate(s, a);
  }

  private aggregate(s: Session, a: AttemptState): void {
    const list = this.commitmentList(a, s);
    const byIdent: Record<string, Uint8Array> = {};
    for (const [p, z] of a.shares) byIdent[s.group.identifiers[p] as string] = z;
    let signature: Uint8Array;
    try {
      signature = fastFrost.aggregate(s.pub, list, s.message, byIdent);
    } catch (err) {
      // noble verified each share after the sum failed; `cheaters` are the FROST identifiers.
      const cheaters = (err as { cheaters?: string[] }).cheaters ?? [];
      a.dead = true;
      if (cheaters.length === 0) throw err;
      for (const p of a.signers.map((x) => x.party)) {
        if (cheaters.includes(s.group.identifiers[p] as string))
          this.excludeSigner(s, p, SignExclusionReason.BadShare);
      }
      this.maybeStartAttempt(s);
      return;
    }
    this.finish(s, {
      sessionId: s.sessionId,
      signature,
      signers: a.signers.map((x) => x.party),
      attempts: s.nextAttempt - 1,
      excluded: [...s.excluded].map(([party, reason]) => ({ party, reason })),
    });
  }

  private onRefuse(s: Session, from: PartyId, msg: SignRefuseMsg): void {
    const a = s.attempts.get(msg.attempt);
    // A refusal after this member's share (a restarted signer answering a resent request) is stale.
    if (!a?.signers.some((x) => x.party === from) || a.shares.has(from)) return;
    a.dead = true;
    if (s.busy.get(from) === msg.attempt) s.busy.delete(from);
    // Everyone else in a dead attempt is free again once it answers; until then keep it busy.
    if (msg.reason === RefuseReason.Nonce && msg.next) {
      this.offer(s, from, msg.next);
      return;
    }
    this.excludeSigner(s, from, SignExclusionReason.Refused);
    this.maybeStartAttempt(s);
  }

  private excludeSigner(s: Session, p: PartyId, reason: SignExclusionReason): void {
    if (s.excluded.has(p)) return;
    s.excluded.set(p, reason);
    this.metrics?.signExcluded.inc({ reason });
    s.ready.delete(p);
    s.busy.delete(p);
    this.log.warn("signer excluded", { sid: s.sessionId, party: p, reason });
    const left = s.group.participants.filter((x) => !s.excluded.has(x));
    if (left.length < s.group.threshold || !s.quorum(left)) {
      this.finish(
        s,
        undefined,
        new TssError(TssErrorCode.SignQuorumUnreachable, "too few members left to reach the threshold", {
          details: {
            sid: s.sessionId,
            threshold: s.group.threshold,
            excluded: Object.fromEntries(s.excluded),
          },
        }),
      );
    }
  }

  private onDeadline(s: Session): void {
    if (s.done) return;
    const silent = s.group.participants.filter((p) => !s.excluded.has(p) && !s.ready.has(p));
    this.finish(
      s,
      undefined,
      new TssError(TssErrorCode.SignTimeout, "no quorum signed before the deadline", {
        details: {
          sid: s.sessionId,
          attempts: s.nextAttempt - 1,
          excluded: Object.fromEntries(s.excluded),
          silent,
        },
      }),
    );
  }

  private finish(s: Session, r: SignResult | undefined, err?: unknown): void {
    if (s.done) return;
    s.done = true;
    for (const c of s.cancel) c();
    this.sessions.delete(s.sessionId);
    if (r) {
      const done: TssMessage = {
        type: "sig/done",
        sessionId: s.sessionId,
        signature: bytesToHex(r.signature),
      };
      this.transport.broadcast(encodeMessage(done));
      this.transport.send(this.key.id, encodeMessage(done));
      this.log.info("signing session complete", {
        sid: s.sessionId,
        attempts: r.attempts,
        excluded: r.excluded.length,
      });
      this.metrics?.signSessions.inc({ result: "ok" });
      this.metrics?.signDuration.observe((this.clock.now() - s.startedAt) / 1000);
      s.resolve(r);
    } else {
      const code = (err as { code?: string }).code ?? "error";
      this.log.warn("signing session failed", { sid: s.sessionId, code });
      this.metrics?.signSessions.inc({ result: code });
      s.reject(err);
    }
  }
}

/** The shortest prefix of `ready` with at least `threshold` members that satisfies `quorum`. */
function pickSigners<T>(
  ready: [PartyId, T][],
  threshold: number,
  quorum: (parties: readonly PartyId[]) => boolean,
): [PartyId, T][] | undefined {
  for (let n = threshold; n <= ready.length; n++) {
    const chosen = ready.slice(0, n);
    if (quorum(chosen.map(([p]) => p))) return chosen;
  }
  return undefined;
}
