import {
  bytesToHex,
  type Clock,
  createNoopLogger,
  type Hex,
  hexToBytes,
  isDseqError,
  type Logger,
  type Metrics,
  realClock,
} from "@dseq/common";
import { decodeMessage, encodeMessage } from "../codec.ts";
import { TssErrorCode } from "../errors.ts";
import { fastFrost } from "../fastFrost.ts";
import type { PartyId, PartyKey } from "../identity.ts";
import { type KeyShare, toFrostPublic, toFrostSecret } from "../keyShare.ts";
import {
  type NonceCommitmentWire,
  RefuseReason,
  type SignRefuseMsg,
  type SignRequestMsg,
  type SignShareMsg,
  type TssMessage,
} from "../messages.ts";
import { createTssMetrics, type TssMetrics } from "../metrics.ts";
import type { NonceStore } from "../store/nonceStore.ts";
import type { TransportMessage, TssTransport } from "../transport/transport.ts";

/** What a signer is told about a request when asked to approve it. */
export type SignContext = {
  sessionId: Hex;
  coordinator: PartyId;
  groupKey: Hex;
  epoch: number;
  /** The signing set of this attempt (every one of them must sign for the signature to form). */
  signers: PartyId[];
  /** Whatever the coordinator attached (e.g. `{kind: "batch", index: 12}`); not trusted. */
  context: Record<string, unknown>;
};

/**
 * The policy hook: called before every share. The node answers by rebuilding the message from
 * its own committed chain; anything it cannot rebuild is refused. Nothing is signed blindly.
 */
export type ApproveFn = (message: Uint8Array, context: SignContext) => boolean | Promise<boolean>;

/** Where a signer finds its share for a group key (a KeyShareStore, or a fixed list). */
export interface KeyShareSource {
  byGroupKey(groupKey: Hex): KeyShare | undefined;
}

export function keyShareSource(shares: readonly KeyShare[]): KeyShareSource {
  return { byGroupKey: (gk) => shares.find((s) => s.group.groupKey === gk) };
}

export type SignerOptions = {
  approve: ApproveFn;
  /** Session state and nonce records older than this are dropped. Default 10 min. */
  sessionTtlMs?: number;
  /** Open sessions accepted per coordinator; more are ignored (each costs a durable nonce). Default 64. */
  maxSessionsPerCoordinator?: number;
};

export type SignerModules = {
  key: PartyKey;
  transport: TssTransport;
  shares: KeyShareSource;
  nonces: NonceStore;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
};

type SignerSession = {
  coordinator: PartyId;
  groupKey: Hex;
  /** The fresh, not yet assigned commitment we offered the coordinator. */
  offered?: NonceCommitmentWire;
  /** Responses per attempt, resent verbatim when the coordinator repeats a request. */
  answered: Map<number, Uint8Array>;
  queue: Promise<void>;
  touched: number;
};

/**
 * A member's signing service: answers any coordinator's sessions. Round 1: a fresh nonce pair
 * is sealed and fsynced (NonceStore) before its commitment leaves the process. Round 2: the
 * policy hook must approve, then the nonce is marked used (fsynced) before the share is
 * computed; with the share goes the next fresh commitment (ROAST). A nonce that is used, or was
 * never stored, is refused, also after a crash and restart.
 */
export class Signer {
  /** Keyed by coordinator and session id: another member cannot squat a session id. */
  private readonly sessions = new Map<string, SignerSession>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly opts: Required<SignerOptions>;
  private readonly key: PartyKey;
  private readonly transport: TssTransport;
  private readonly shares: KeyShareSource;
  private readonly nonces: NonceStore;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: TssMetrics | undefined;
  private unsubscribe: (() => void) | undefined;
  private cancelSweep: (() => void) | undefined;
  /** Shares produced so far (for metrics and tests). */
  sharesProduced = 0;

  constructor(opts: SignerOptions, modules: SignerModules) {
    this.opts = {
      approve: opts.approve,
      sessionTtlMs: opts.sessionTtlMs ?? 600_000,
      maxSessionsPerCoordinator: opts.maxSessionsPerCoordinator ?? 64,
    };
    this.key = modules.key;
    this.transport = modules.transport;
    this.shares = modules.shares;
    this.nonces = modules.nonces;
    this.clock = modules.clock ?? realClock;
    this.log = (modules.logger ?? createNoopLogger()).child({ module: "tss-signer" });
    this.metrics = createTssMetrics(modules.metrics);
  }

  start(): this {
    if (this.unsubscribe) return this;
    this.unsubscribe = this.transport.subscribe((m) => this.onTransport(m));
    const sweep = (): void => {
      const now = this.clock.now();
      for (const [sid, s] of this.sessions)
        if (now - s.touched > this.opts.sessionTtlMs) this.sessions.delete(sid);
      this.nonces
        .prune(this.opts.sessionTtlMs, now)
        .catch((err) => this.log.warn("nonce prune failed", { err }));
      this.cancelSweep = this.clock.setTimeout(sweep, Math.max(1000, this.opts.sessionTtlMs / 4));
    };
    this.cancelSweep = this.clock.setTimeout(sweep, Math.max(1000, this.opts.sessionTtlMs / 4));
    return this;
  }

  /** Stops answering; resolves once in-flight steps (nonce writes) have finished. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.cancelSweep?.();
    this.sessions.clear();
    await Promise.allSettled([...this.inFlight]);
  }

  private onTransport(m: TransportMessage): void {
    const msg = decodeMessage(m.data);
    if (!msg || (msg.type !== "sig/start" && msg.type !== "sig/request" && msg.type !== "sig/done")) return;
    if (msg.type === "sig/done") {
      this.sessions.delete(`${m.from}/${msg.sessionId}`);
      return;
    }
    const share = this.shares.byGroupKey(msg.groupKey);
    if (!share?.group.participants.includes(this.key.id)) return;
    const sessionKey = `${m.from}/${msg.sessionId}`;
    let s = this.sessions.get(sessionKey);
    if (!s) {
      let open = 0;
      for (const x of this.sessions.values()) if (x.coordinator === m.from) open++;
      if (open >= this.opts.maxSessionsPerCoordinator) {
        this.log.debug("too many open sessions from one coordinator; ignored", { coordinator: m.from });
        return;
      }
      s = {
        coordinator: m.from,
        groupKey: msg.groupKey,
        answered: new Map(),
        queue: Promise.resolve(),
        touched: 0,
      };
      this.sessions.set(sessionKey, s);
    }
    if (s.coordinator !== m.from || s.groupKey !== msg.groupKey) return;
    s.touched = this.clock.now();
    const session = s;
    // One step at a time per session: nonce creation and use must not interleave.
    s.queue = s.queue
      .then(() =>
        msg.type === "sig/start"
          ? this.onStart(msg.sessionId, session, share)
          : this.onRequest(session, share, msg),
      )
      .catch((err) => this.log.warn("signing step failed", { sid: msg.sessionId, err: String(err) }));
    const step = s.queue;
    this.inFlight.add(step);
    step.finally(() => this.inFlight.delete(step));
  }

  private async onStart(sid: Hex, s: SignerSession, share: KeyShare): Promise<void> {
    s.offered ??= await this.freshCommitment(sid, s.coordinator, share);
    this.send(s.coordinator, { type: "sig/commit", sessionId: sid, commitment: s.offered });
  }

  private async freshCommitment(
    sid: Hex,
    coordinator: PartyId,
    share: KeyShare,
  ): Promise<NonceCommitmentWire> {
    const { nonces, commitments } = fastFrost.commit(toFrostSecret(share));
    const rec = await this.nonces.create(
      {
        sessionId: sid,
        coordinator,
        groupKey: share.group.groupKey,
        hiding: bytesToHex(commitments.hiding),
        binding: bytesToHex(commitments.binding),
      },
      nonces,
      this.clock.now(),
    );
    nonces.hiding.fill(0);
    nonces.binding.fill(0);
    return { nonceId: rec.nonceId, hiding: rec.hiding, binding: rec.binding };
  }

  private async onRequest(s: SignerSession, share: KeyShare, req: SignRequestMsg): Promise<void> {
    const cached = s.answered.get(req.attempt);
    if (cached) {
      this.transport.send(s.coordinator, cached);
      return;
    }
    const mine = req.signers.find((x) => x.party === this.key.id);
    if (!mine) return;
    const group = share.group;
    const parties = new Set(req.signers.map((x) => x.party));
    const wellFormed =
      parties.size === req.signers.length &&
      req.signers.length >= group.threshold &&
      req.signers.every((x) => group.participants.includes(x.party));
    const refuse = async (reason: RefuseReason, withNext: boolean): Promise<void> => {
      const next = withNext
        ? await this.nextOffer(s, req.sessionId, share, mine.commitment.nonceId)
        : undefined;
      const r: SignRefuseMsg = {
        type: "sig/refuse",
        sessionId: req.sessionId,
        attempt: req.attempt,
        reason,
        ...(next ? { next } : {}),
      };
      this.metrics?.refusals.inc({ reason });
      this.answer(s, req.attempt, r);
    };
    if (!wellFormed) return refuse(RefuseReason.BadRequest, false);
    const message = hexToBytes(req.message);
    const approved = await Promise.resolve(
      this.opts.approve(message, {
        sessionId: req.sessionId,
        coordinator: s.coordinator,
        groupKey: group.groupKey,
        epoch: group.epoch,
        signers: req.signers.map((x) => x.party),
        context: req.context,
      }),
    ).catch((err) => {
      this.log.warn("approve hook threw; refusing", { sid: req.sessionId, err: String(err) });
      return false;
    });
    if (approved !== true) {
      this.log.info("signing request refused by policy", { sid: req.sessionId, coordinator: s.coordinator });
      return refuse(RefuseReason.Policy, false);
    }
    let nonces: { hiding: Uint8Array; binding: Uint8Array };
    try {
      nonces = await this.nonces.take(mine.commitment.nonceId, {
        sessionId: req.sessionId,
        coordinator: s.coordinator,
        groupKey: group.groupKey,
        hiding: mine.commitment.hiding,
        binding: mine.commitment.binding,
      });
    } catch (err) {
      if (!isDseqError(err, TssErrorCode.NonceUnavailable)) throw err;
      this.log.info("signing request for an unavailable nonce refused", {
        sid: req.sessionId,
        att: req.attempt,
      });
      return refuse(RefuseReason.Nonce, true);
    }
    const list = req.signers.map((x) => ({
      identifier: group.identifiers[x.party] as string,
      hiding: hexToBytes(x.commitment.hiding),
      binding: hexToBytes(x.commitment.binding),
    }));
    let z: Uint8Array;
    try {
      z = fastFrost.signShare(toFrostSecret(share), toFrostPublic(group), nonces, list, message);
    } catch (err) {
      this.log.warn("share computation refused the request", { sid: req.sessionId, err: String(err) });
      return refuse(RefuseReason.BadRequest, true);
    }
    this.sharesProduced++;
    this.metrics?.sharesProduced.inc();
    const next = await this.nextOffer(s, req.sessionId, share, mine.commitment.nonceId);
    const out: SignShareMsg = {
      type: "sig/share",
      sessionId: req.sessionId,
      attempt: req.attempt,
      share: bytesToHex(z),
      next,
    };
    this.answer(s, req.attempt, out);
  }

  /** A fresh commitment to offer next, unless the one on offer is still unused. */
  private async nextOffer(
    s: SignerSession,
    sid: Hex,
    share: KeyShare,
    spent: Hex,
  ): Promise<NonceCommitmentWire> {
    if (s.offered && s.offered.nonceId !== spent && this.nonces.status(s.offered.nonceId) === "fresh")
      return s.offered;
    s.offered = await this.freshCommitment(sid, s.coordinator, share);
    return s.offered;
  }

  private answer(s: SignerSession, attempt: number, m: TssMessage): void {
    const bytes = encodeMessage(m);
    s.answered.set(attempt, bytes);
    this.transport.send(s.coordinator, bytes);
  }

  private send(to: PartyId, m: TssMessage): void {
    this.transport.send(to, encodeMessage(m));
  }
}
