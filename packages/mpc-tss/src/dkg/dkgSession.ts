import {
  bytesToHex,
  type Clock,
  concatBytes,
  createNoopLogger,
  equalBytes,
  type Hex,
  hexToBytes,
  type Logger,
  type Metrics,
  realClock,
  uintToBytes,
  utf8ToBytes,
} from "@dseq/common";
import { secp256k1 as nativeSecp } from "@dseq/crypto";
import type { DKG_Round1, DKG_Secret, Key } from "@noble/curves/abstract/frost.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import type { TArg } from "@noble/curves/utils.js";
import { proveDleq, verifyDleq } from "../dleq.ts";
import { TssError, TssErrorCode } from "../errors.ts";
import { fastFrost } from "../fastFrost.ts";
import {
  type PartyId,
  type PartyKey,
  partyPublicKey,
  sha256,
  signStatement,
  sortMembers,
  verifyStatement,
} from "../identity.ts";
import { type GroupInfo, groupInfoFromFrost, type KeyShare } from "../keyShare.ts";
import {
  type DkgComplaintMsg,
  type DkgEchoMsg,
  type DkgEquivocationMsg,
  type DkgOkMsg,
  type DkgRound1Body,
  type DkgRound1Msg,
  type DkgRound2Msg,
  decodeMessage,
  encodeMessage,
  type TssMessage,
} from "../messages.ts";
import { createTssMetrics, type TssMetrics } from "../metrics.ts";
import { ecdhPoint, ecdhWith, openShare, sealShare, shareKey } from "../shareBox.ts";
import { Fn, frost, identifierAt, thresholdFor } from "../suite.ts";
import type { TransportMessage, TssTransport } from "../transport/transport.ts";
import { isProofOfKnowledgeValid, isShareValid } from "./proofs.ts";

export type DkgOptions = {
  /** Validator-set epoch the new key is for. */
  epoch: number;
  /** The whole validator set (any order; the session sorts it). */
  members: PartyId[];
  /** Default: floor(2n/3) + 1. */
  threshold?: number;
  /** Default: derived from epoch and members, so every member computes the same one. */
  sessionId?: Hex;
  /** The whole DKG, every attempt included, must finish within this. Default 60 s. */
  deadlineMs?: number;
  /** Retransmission period for messages peers have not acknowledged. Default 250 ms. */
  resendIntervalMs?: number;
  /** After success, keep answering late peers this long (unless closed). Default 10 s. */
  lingerMs?: number;
  /** Fault injection for tests only: misbehave on purpose. */
  faults?: DkgFaults;
};

/** Test-only misbehaviour, to check that the others name this party. */
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

export type DkgModules = {
  key: PartyKey;
  transport: TssTransport;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
};

export const DkgExclusionReason = {
  BadShare: "bad-share",
  FalseComplaint: "false-complaint",
  BadProofOfKnowledge: "bad-proof-of-knowledge",
  Equivocation: "equivocation",
} as const;
export type DkgExclusionReason = (typeof DkgExclusionReason)[keyof typeof DkgExclusionReason];

export type DkgExclusion = { party: PartyId; reason: DkgExclusionReason; accuser?: PartyId };

export type DkgResult = {
  keyShare: KeyShare;
  group: GroupInfo;
  /** Members excluded as culprits, with the reason every honest party agreed on. */
  excluded: DkgExclusion[];
  /** Every participant's signature over (session, attempt, transcript, group key). */
  confirmations: { party: PartyId; sig: Hex }[];
};

/** The session id all members derive for (epoch, set). */
export function dkgSessionId(epoch: number, members: readonly PartyId[]): Hex {
  const sorted = sortMembers(members);
  return bytesToHex(
    sha256(
      utf8ToBytes("dseq/tss/dkg-session/v1"),
      uintToBytes(epoch, 8),
      ...sorted.map((m) => hexToBytes(m)),
    ),
  );
}

type Attempt = {
  mask: Hex;
  active: PartyId[];
  pos: Map<PartyId, number>;
  max: number;
  secret: DKG_Secret;
  ephSecret: Uint8Array;
  r1Out: DkgRound1Msg;
  /** Fault injection only: a different round-1 message for some members. */
  r1OutFor: Map<PartyId, DkgRound1Msg>;
  r1: Map<PartyId, DkgRound1Msg>;
  /** Round-1 commitments decompressed once (noble would take a BigInt square root per use). */
  points: Map<PartyId, Uint8Array[]>;
  /** Set once a transcript mismatch was seen: we echo every round-1 message we hold. */
  echoes?: Uint8Array[];
  transcript?: Uint8Array;
  r2Out: Map<PartyId, DkgRound2Msg>;
  r2In: Map<PartyId, { msg: DkgRound2Msg; share: Uint8Array }>;
  key?: TArg<Key>;
  okOut?: DkgOkMsg;
  oks: Map<PartyId, DkgOkMsg>;
  lastReply: Map<PartyId, number>;
  complaints: DkgComplaintMsg[];
};

const ZERO32 = new Uint8Array(32);

function maskHex(mask: bigint): Hex {
  const h = mask.toString(16);
  return `0x${h.length % 2 ? `0${h}` : h}`;
}

/**
 * One party's side of a Pedersen/FROST DKG (noble's `secp256k1_FROST.DKG` does the math) over
 * a lossy transport:
 *
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
 * Messages are retransmitted until acknowledged by the next step, so drops only cost time.
 */
export class DkgSession {
  readonly sessionId: Hex;
  readonly members: PartyId[];
  readonly threshold: number;
  readonly result: Promise<DkgResult>;

  private readonly opts: Required<Omit<DkgOptions, "faults" | "sessionId" | "threshold">> & {
    faults: DkgFaults;
  };
  private readonly key: PartyKey;
  private readonly transport: TssTransport;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: TssMetrics | undefined;
  private readonly identifiers: Record<PartyId, string> = {};
  private readonly index = new Map<PartyId, number>();
  private readonly excluded = new Map<PartyId, DkgExclusion>();
  /** Complaints or equivocation proofs behind each exclusion; sent to peers still behind. */
  private readonly evidence = new Map<PartyId, Uint8Array>();
  private readonly past = new Map<Hex, Attempt>();
  private readonly buffered = new Map<Hex, TransportMessage[]>();
  private attempt: Attempt | undefined;
  /** ECDH with our long-term key (opening the boxes sent to us). */
  private readonly ecdh: (publicKey: Uint8Array) => Uint8Array;
  private state: "idle" | "running" | "done" | "failed" | "closed" = "idle";
  private unsubscribe: (() => void) | undefined;
  private cancelTimers: (() => void)[] = [];
  private resolve!: (r: DkgResult) => void;
  private reject!: (e: unknown) => void;

  constructor(opts: DkgOptions, modules: DkgModules) {
    this.members = sortMembers(opts.members);
    this.threshold = opts.threshold ?? thresholdFor(this.members.length);
    if (this.threshold < 2 || this.threshold > this.members.length) {
      throw new TssError(TssErrorCode.BadParams, "threshold out of range", {
        details: { threshold: this.threshold, n: this.members.length },
      });
    }
    this.key = modules.key;
    if (!this.members.includes(this.key.id)) {
      throw new TssError(TssErrorCode.BadParams, "this party is not a member", {
        details: { self: this.key.id },
      });
    }
    this.sessionId = opts.sessionId ?? dkgSessionId(opts.epoch, this.members);
    this.opts = {
      epoch: opts.epoch,
      members: this.members,
      deadlineMs: opts.deadlineMs ?? 60_000,
      resendIntervalMs: opts.resendIntervalMs ?? 250,
      lingerMs: opts.lingerMs ?? 10_000,
      faults: opts.faults ?? {},
    };
    this.transport = modules.transport;
    this.ecdh = ecdhWith(this.key.secretKey);
    this.clock = modules.clock ?? realClock;
    this.log = (modules.logger ?? createNoopLogger()).child({
      module: "tss-dkg",
      sid: this.sessionId.slice(0, 18),
    });
    this.metrics = createTssMetrics(modules.metrics);
    this.members.forEach((m, i) => {
      this.index.set(m, i);
      this.identifiers[m] = identifierAt(i);
    });
    this.result = new Promise<DkgResult>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // A caller that only awaits later must not see an unhandled rejection in between.
    this.result.catch(() => {});
  }

  start(): this {
    if (this.state !== "idle") return this;
    this.state = "running";
    this.unsubscribe = this.transport.subscribe((m) => this.onTransport(m));
    this.cancelTimers.push(this.clock.setTimeout(() => this.onDeadline(), this.opts.deadlineMs));
    this.startAttempt();
    this.scheduleResend();
    return this;
  }

  /** Stops listening; a running session fails with TSS_CLOSED. */
  close(): void {
    if (this.state === "running") this.fail(new TssError(TssErrorCode.Closed, "DKG session closed"));
    this.state = "closed";
    this.stopIo();
  }

  private stopIo(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const c of this.cancelTimers) c();
    this.cancelTimers = [];
  }

  // ---- attempts ---------------------------------------------------------------------------

  private startAttempt(): void {
    let mask = 0n;
    for (const p of this.excluded.keys()) mask |= 1n << BigInt(this.index.get(p) ?? 0);
    const active = this.members.filter((m) => !this.excluded.has(m));
    if (this.attempt) this.past.set(this.attempt.mask, this.attempt);
    const max = active.length;
    const r1 = frost.DKG.round1(this.identifiers[this.key.id] as string, { min: this.threshold, max });
    const ephSecret = secp256k1.utils.randomSecretKey();
    const att = maskHex(mask);
    const r1Out = this.signedRound1(att, r1.public, ephSecret);
    const r1OutFor = new Map<PartyId, DkgRound1Msg>();
    if (this.opts.faults.equivocateTo?.length) {
      const other = frost.DKG.round1(this.identifiers[this.key.id] as string, { min: this.threshold, max });
      const alt = this.signedRound1(att, other.public, ephSecret);
      for (const p of this.opts.faults.equivocateTo) r1OutFor.set(p, alt);
    }
    const a: Attempt = {
      mask: att,
      active,
      pos: new Map(active.map((p, i) => [p, i])),
      max,
      secret: r1.secret,
      ephSecret,
      r1Out,
      r1OutFor,
      r1: new Map([[this.key.id, r1Out]]),
      points: new Map(),
      r2Out: new Map(),
      r2In: new Map(),
      oks: new Map(),
      lastReply: new Map(),
      complaints: [],
    };
    this.attempt = a;
    this.log.debug("dkg attempt started", { att, n: max, t: this.threshold });
    if (r1OutFor.size === 0) this.transport.broadcast(encodeMessage(r1Out));
    else
      for (const p of active)
        if (p !== this.key.id) this.transport.send(p, encodeMessage(r1OutFor.get(p) ?? r1Out));
    const queued = this.buffered.get(att) ?? [];
    this.buffered.delete(att);
    for (const m of queued) this.onTransport(m);
  }

  private signedRound1(att: Hex, pub: TArg<DKG_Round1>, ephSecret: Uint8Array): DkgRound1Msg {
    const m: DkgRound1Msg = {
      t: "dkg/r1",
      sid: this.sessionId,
      att,
      commitment: pub.commitment.map((c) => bytesToHex(c)),
      pok: bytesToHex(pub.proofOfKnowledge),
      enc: bytesToHex(secp256k1.getPublicKey(ephSecret, true)),
      sig: "0x",
    };
    m.sig = bytesToHex(signStatement(this.key, "dkg-r1", this.r1SigPayload(att, this.key.id, m)));
    return m;
  }

  private r1SigPayload(att: Hex, p: PartyId, m: DkgRound1Body): Uint8Array {
    return concatBytes(hexToBytes(this.sessionId), hexToBytes(att), this.r1Digest(p, m));
  }

  private scheduleResend(): void {
    const tick = (): void => {
      if (this.state !== "running") return;
      const a = this.attempt;
      if (a) for (const p of a.active) if (p !== this.key.id && !a.oks.has(p)) this.sendAllTo(a, p);
      if (a?.echoes) for (const e of a.echoes) this.transport.broadcast(e);
      this.cancelTimers.push(this.clock.setTimeout(tick, this.opts.resendIntervalMs));
    };
    this.cancelTimers.push(this.clock.setTimeout(tick, this.opts.resendIntervalMs));
  }

  private sendAllTo(a: Attempt, p: PartyId): void {
    this.transport.send(p, encodeMessage(a.r1OutFor.get(p) ?? a.r1Out));
    const r2 = a.r2Out.get(p);
    if (r2) this.transport.send(p, encodeMessage(r2));
    if (a.okOut) this.transport.send(p, encodeMessage(a.okOut));
  }

  // ---- inbound ----------------------------------------------------------------------------

  private onTransport(m: TransportMessage): void {
    if (this.state === "closed" || this.state === "failed" || this.state === "idle") return;
    const msg = decodeMessage(m.data);
    if (!msg || msg.sid !== this.sessionId || !this.index.has(m.from) || m.from === this.key.id) return;
    try {
      this.onMessage(m, msg);
    } catch (err) {
      this.fail(err);
    }
  }

  private onMessage(m: TransportMessage, msg: TssMessage): void {
    const from = m.from;
    if (msg.t === "dkg/complaint") {
      this.onComplaint(msg);
      return;
    }
    if (msg.t === "dkg/echo") {
      this.onEcho(msg);
      return;
    }
    if (msg.t === "dkg/equivocation") {
      this.onEquivocation(msg);
      return;
    }
    if (msg.t !== "dkg/r1" && msg.t !== "dkg/r2" && msg.t !== "dkg/ok") return;
    const a = this.attempt;
    if (!a) return;
    if (msg.att !== a.mask) {
      const theirs = BigInt(msg.att);
      const mine = BigInt(a.mask);
      if ((theirs & mine) === mine && this.state === "running") {
        // They know of more culprits than we do; their complaint is on its way.
        const q = this.buffered.get(msg.att) ?? [];
        if (q.length < 4 * this.members.length) q.push(m);
        this.buffered.set(msg.att, q);
      } else if ((theirs & mine) === theirs) {
        // They are behind: show them why we moved on.
        for (const [p, ev] of this.evidence) {
          if (!(theirs & (1n << BigInt(this.index.get(p) ?? 0)))) this.transport.send(from, ev);
        }
      }
      return;
    }
    if (!a.pos.has(from)) return;
    let duplicate = false;
    switch (msg.t) {
      case "dkg/r1":
        duplicate = this.onRound1(a, from, msg);
        break;
      case "dkg/r2":
        duplicate = this.onRound2(a, from, msg);
        break;
      case "dkg/ok":
        duplicate = this.onOk(a, from, msg);
        break;
    }
    if (duplicate) this.replyTo(a, from);
  }

  /** A peer repeating itself has not heard from us: answer it (rate-limited). */
  private replyTo(a: Attempt, p: PartyId): void {
    const now = this.clock.now();
    const last = a.lastReply.get(p) ?? -Infinity;
    if (now - last < this.opts.resendIntervalMs / 2) return;
    a.lastReply.set(p, now);
    this.sendAllTo(a, p);
  }

  private onRound1(a: Attempt, from: PartyId, msg: DkgRound1Msg): boolean {
    const have = a.r1.get(from);
    if (have) return true;
    if (msg.commitment.length !== this.threshold) return false;
    if (!verifyStatement(from, "dkg-r1", this.r1SigPayload(a.mask, from, msg), hexToBytes(msg.sig)))
      return false;
    a.r1.set(from, msg);
    if (a.r1.size === a.active.length) this.round2(a);
    return false;
  }

  private r1Digest(p: PartyId, m: DkgRound1Body): Uint8Array {
    return sha256(
      hexToBytes(p),
      uintToBytes(m.commitment.length, 2),
      ...m.commitment.map((c) => hexToBytes(c)),
      hexToBytes(m.pok),
      hexToBytes(m.enc),
    );
  }

  /**
   * A dealer's commitment as uncompressed points, decompressed by libsecp256k1 (noble accepts
   * either encoding and re-serializes compressed where it hashes). A point that does not parse
   * is passed on as it came, so that noble refuses it and the culprit search names the dealer.
   */
  private commitmentOf(a: Attempt, p: PartyId): Uint8Array[] {
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

  private round2(a: Attempt): void {
    a.transcript = sha256(
      utf8ToBytes("dseq/tss/dkg-transcript/v1"),
      hexToBytes(this.sessionId),
      hexToBytes(a.mask),
      ...a.active.map((p) => this.r1Digest(p, a.r1.get(p) as DkgRound1Msg)),
    );
    const others = a.active.filter((p) => p !== this.key.id);
    const packages: TArg<DKG_Round1>[] = others.map((p) => {
      const m = a.r1.get(p) as DkgRound1Msg;
      return {
        identifier: this.identifiers[p] as string,
        commitment: this.commitmentOf(a, p),
        proofOfKnowledge: hexToBytes(m.pok),
      };
    });
    let out: Record<string, { signingShare: Uint8Array }>;
    try {
      out = frost.DKG.round2(a.secret, packages);
    } catch (err) {
      const culprits = others.filter((_p, i) => {
        const pkg = packages[i] as TArg<DKG_Round1>;
        return !isProofOfKnowledgeValid(pkg.identifier, pkg.commitment, pkg.proofOfKnowledge);
      });
      if (culprits.length === 0) throw err;
      for (const c of culprits) this.exclude({ party: c, reason: DkgExclusionReason.BadProofOfKnowledge });
      this.restartOrFail();
      return;
    }
    const boxes = new Map<PartyId, Uint8Array>();
    const ecdh = ecdhWith(a.ephSecret);
    for (const p of others) {
      const pkg = out[this.identifiers[p] as string];
      if (!pkg) throw new TssError(TssErrorCode.BadParams, "noble returned no share for a peer");
      let share = pkg.signingShare;
      if (this.opts.faults.corruptShareFor?.includes(p)) share = Fn.toBytes(Fn.add(Fn.fromBytes(share), 1n));
      const ctx = { sessionId: this.sessionId, attempt: a.mask, from: this.key.id, to: p };
      let box = sealShare(shareKey(ecdh(partyPublicKey(p)), ctx), ctx, share);
      if (this.opts.faults.garbleBoxFor?.includes(p)) box = box.map((b, i) => (i === 20 ? b ^ 1 : b));
      boxes.set(p, box);
    }
    const digests = a.active.map((p) => {
      const b = boxes.get(p);
      return b ? sha256(b) : ZERO32;
    });
    const sig = signStatement(this.key, "dkg-r2", this.r2Payload(a.mask, this.key.id, a.transcript, digests));
    const digestsHex = digests.map((d) => bytesToHex(d));
    for (const p of others) {
      const r2: DkgRound2Msg = {
        t: "dkg/r2",
        sid: this.sessionId,
        att: a.mask,
        to: p,
        transcript: bytesToHex(a.transcript),
        box: bytesToHex(boxes.get(p) as Uint8Array),
        digests: digestsHex,
        sig: bytesToHex(sig),
      };
      a.r2Out.set(p, r2);
      this.transport.send(p, encodeMessage(r2));
    }
    // Shares that arrived before our own round 1 was complete.
    const early = [...a.r2In];
    a.r2In.clear();
    for (const [p, { msg }] of early) this.onRound2(a, p, msg);
  }

  private r2Payload(mask: Hex, from: PartyId, transcript: Uint8Array, digests: Uint8Array[]): Uint8Array {
    return concatBytes(
      hexToBytes(this.sessionId),
      hexToBytes(mask),
      hexToBytes(from),
      transcript,
      ...digests,
    );
  }

  private onRound2(a: Attempt, from: PartyId, msg: DkgRound2Msg): boolean {
    if (msg.to !== this.key.id) return false;
    if (a.r2In.has(from) && a.transcript) return true;
    if (!a.transcript) {
      // Keep it until our round 1 is complete (the loop in round2() replays it).
      a.r2In.set(from, { msg, share: new Uint8Array() });
      return false;
    }
    if (!equalBytes(hexToBytes(msg.transcript), a.transcript)) {
      this.dispute(a, from);
      return false;
    }
    if (msg.digests.length !== a.active.length) return false;
    const myPos = a.pos.get(this.key.id) as number;
    const box = hexToBytes(msg.box);
    const r1 = a.r1.get(from) as DkgRound1Msg;
    const ctx = { sessionId: this.sessionId, attempt: a.mask, from, to: this.key.id };
    const share = equalBytes(sha256(box), hexToBytes(msg.digests[myPos] as Hex))
      ? openShare(shareKey(this.ecdh(hexToBytes(r1.enc)), ctx), ctx, box)
      : undefined;
    const falseAccusation = this.opts.faults.falseComplaintAgainst === from;
    if (share?.length !== 32 || falseAccusation) {
      this.complainIfSigned(a, from, msg);
      return false;
    }
    a.r2In.set(from, { msg, share });
    if (a.r2In.size === a.active.length - 1) this.round3(a);
    return false;
  }

  /** A complaint needs the dealer's signature on what it sent; unsigned garbage is just dropped. */
  private complainIfSigned(a: Attempt, accused: PartyId, msg: DkgRound2Msg): void {
    const digests = msg.digests.map((d) => hexToBytes(d));
    const payload = this.r2Payload(a.mask, accused, hexToBytes(msg.transcript), digests);
    if (!verifyStatement(accused, "dkg-r2", payload, hexToBytes(msg.sig))) {
      this.log.warn("dkg share with a bad signature dropped", { peer: accused });
      return;
    }
    const r1 = a.r1.get(accused) as DkgRound1Msg;
    const sharedPoint = ecdhPoint(this.key.secretKey, hexToBytes(r1.enc));
    const proof = proveDleq(this.key.secretKey, hexToBytes(r1.enc), sharedPoint);
    const r2 = { transcript: msg.transcript, box: msg.box, digests: msg.digests, sig: msg.sig };
    const body = this.complaintPayload(a.mask, accused, r2, sharedPoint, proof);
    const complaint: DkgComplaintMsg = {
      t: "dkg/complaint",
      sid: this.sessionId,
      att: a.mask,
      accuser: this.key.id,
      accused,
      r2,
      shared: bytesToHex(sharedPoint),
      proof: bytesToHex(proof),
      sig: bytesToHex(signStatement(this.key, "dkg-complaint", body)),
    };
    this.log.warn("dkg complaint raised", { accused, att: a.mask });
    this.transport.broadcast(encodeMessage(complaint));
    this.onComplaint(complaint);
  }

  private complaintPayload(
    mask: Hex,
    accused: PartyId,
    r2: DkgComplaintMsg["r2"],
    shared: Uint8Array,
    proof: Uint8Array,
  ): Uint8Array {
    return concatBytes(
      hexToBytes(this.sessionId),
      hexToBytes(mask),
      hexToBytes(accused),
      hexToBytes(r2.transcript),
      sha256(hexToBytes(r2.box)),
      ...r2.digests.map((d) => hexToBytes(d)),
      hexToBytes(r2.sig),
      shared,
      proof,
    );
  }

  /**
   * Judges a complaint from what every party can check: the accused's signature on the box,
   * the DLEQ proof of the revealed ECDH point, then the box and the share themselves.
   */
  private onComplaint(c: DkgComplaintMsg): void {
    const accuser = c.accuser;
    if (this.excluded.has(c.accused) || this.excluded.has(accuser)) return;
    const a = this.attempt?.mask === c.att ? this.attempt : this.past.get(c.att);
    if (!a?.transcript || !a.pos.has(accuser) || !a.pos.has(c.accused) || accuser === c.accused) return;
    const shared = hexToBytes(c.shared);
    const proof = hexToBytes(c.proof);
    const body = this.complaintPayload(c.att, c.accused, c.r2, shared, proof);
    if (!verifyStatement(accuser, "dkg-complaint", body, hexToBytes(c.sig))) return;
    const culprit = ((): DkgExclusion => {
      const guiltyAccuser = { party: accuser, reason: DkgExclusionReason.FalseComplaint, accuser };
      const guiltyDealer = { party: c.accused, reason: DkgExclusionReason.BadShare, accuser };
      const digests = c.r2.digests.map((d) => hexToBytes(d));
      const r2Body = this.r2Payload(c.att, c.accused, hexToBytes(c.r2.transcript), digests);
      if (!verifyStatement(c.accused, "dkg-r2", r2Body, hexToBytes(c.r2.sig))) return guiltyAccuser;
      if (!equalBytes(hexToBytes(c.r2.transcript), a.transcript as Uint8Array)) return guiltyAccuser;
      const box = hexToBytes(c.r2.box);
      const slot = digests[a.pos.get(accuser) as number];
      if (digests.length !== a.active.length || !slot || !equalBytes(slot, sha256(box))) return guiltyAccuser;
      const r1 = a.r1.get(c.accused) as DkgRound1Msg;
      if (!verifyDleq(partyPublicKey(accuser), hexToBytes(r1.enc), shared, proof)) return guiltyAccuser;
      const ctx = { sessionId: this.sessionId, attempt: c.att, from: c.accused, to: accuser };
      const share = openShare(shareKey(shared.subarray(1), ctx), ctx, box);
      if (share?.length !== 32) return guiltyDealer;
      const ok = isShareValid(
        this.identifiers[accuser] as string,
        share,
        this.commitmentOf(a, c.accused),
        this.threshold,
        a.max,
      );
      return ok ? guiltyAccuser : guiltyDealer;
    })();
    this.evidence.set(culprit.party, encodeMessage(c));
    this.log.warn("dkg culprit named", { culprit: culprit.party, reason: culprit.reason, accuser });
    this.exclude(culprit);
    this.restartOrFail();
  }

  /**
   * Someone's round-1 transcript differs from ours: echo every round-1 message we hold, so
   * that whoever holds a different signed version of one of them can prove the equivocation.
   */
  private dispute(a: Attempt, peer: PartyId): void {
    if (a.echoes) return;
    this.log.warn("dkg round-1 transcript mismatch; echoing round 1", { peer, att: a.mask });
    a.echoes = [...a.r1].map(([party, r]) =>
      encodeMessage({
        t: "dkg/echo",
        sid: this.sessionId,
        att: a.mask,
        party,
        r1: { commitment: r.commitment, pok: r.pok, enc: r.enc, sig: r.sig },
      }),
    );
    for (const e of a.echoes) this.transport.broadcast(e);
  }

  private onEcho(e: DkgEchoMsg): void {
    const a = this.attempt?.mask === e.att ? this.attempt : this.past.get(e.att);
    if (!a || this.excluded.has(e.party)) return;
    const mine = a.r1.get(e.party);
    if (!mine) return;
    if (!equalBytes(this.r1Digest(e.party, mine), this.r1Digest(e.party, e.r1))) {
      if (!verifyStatement(e.party, "dkg-r1", this.r1SigPayload(e.att, e.party, e.r1), hexToBytes(e.r1.sig)))
        return;
      const proof: DkgEquivocationMsg = {
        t: "dkg/equivocation",
        sid: this.sessionId,
        att: e.att,
        party: e.party,
        first: { commitment: mine.commitment, pok: mine.pok, enc: mine.enc, sig: mine.sig },
        second: e.r1,
      };
      this.transport.broadcast(encodeMessage(proof));
      this.onEquivocation(proof);
      return;
    }
    // Someone saw a mismatch: help find it by echoing our view too.
    if (a === this.attempt && a.transcript) this.dispute(a, e.party);
  }

  /** Two different round-1 messages, both signed by `party` for this session and attempt. */
  private onEquivocation(q: DkgEquivocationMsg): void {
    if (this.excluded.has(q.party) || !this.index.has(q.party)) return;
    const d1 = this.r1Digest(q.party, q.first);
    const d2 = this.r1Digest(q.party, q.second);
    if (equalBytes(d1, d2)) return;
    for (const b of [q.first, q.second]) {
      if (!verifyStatement(q.party, "dkg-r1", this.r1SigPayload(q.att, q.party, b), hexToBytes(b.sig)))
        return;
    }
    this.evidence.set(q.party, encodeMessage(q));
    this.log.warn("dkg culprit named", { culprit: q.party, reason: DkgExclusionReason.Equivocation });
    this.exclude({ party: q.party, reason: DkgExclusionReason.Equivocation });
    this.restartOrFail();
  }

  private round3(a: Attempt): void {
    const others = a.active.filter((p) => p !== this.key.id);
    const round1: TArg<DKG_Round1>[] = others.map((p) => {
      const m = a.r1.get(p) as DkgRound1Msg;
      return {
        identifier: this.identifiers[p] as string,
        commitment: this.commitmentOf(a, p),
        proofOfKnowledge: hexToBytes(m.pok),
      };
    });
    const round2 = others.map((p) => ({
      identifier: this.identifiers[p] as string,
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
        if (
          isShareValid(this.identifiers[this.key.id] as string, share, pkg.commitment, this.threshold, a.max)
        ) {
          continue;
        }
        found = true;
        const entry = a.r2In.get(p) as { msg: DkgRound2Msg };
        a.r2In.delete(p);
        this.complainIfSigned(a, p, entry.msg);
        if (this.attempt !== a) return;
      }
      if (!found) throw err;
      return;
    }
    const groupKey = a.key.public.commitments[0] as Uint8Array;
    const okBody = this.okPayload(a.mask, a.transcript as Uint8Array, groupKey);
    a.okOut = {
      t: "dkg/ok",
      sid: this.sessionId,
      att: a.mask,
      transcript: bytesToHex(a.transcript as Uint8Array),
      groupKey: bytesToHex(groupKey),
      sig: bytesToHex(signStatement(this.key, "dkg-ok", okBody)),
    };
    a.oks.set(this.key.id, a.okOut);
    this.transport.broadcast(encodeMessage(a.okOut));
    // Confirmations that arrived before our own key was ready.
    const early = [...a.oks].filter(([p]) => p !== this.key.id);
    for (const [p] of early) a.oks.delete(p);
    for (const [p, m] of early) this.onOk(a, p, m);
    this.maybeFinish(a);
  }

  private okPayload(mask: Hex, transcript: Uint8Array, groupKey: Uint8Array): Uint8Array {
    return concatBytes(hexToBytes(this.sessionId), hexToBytes(mask), transcript, groupKey);
  }

  private onOk(a: Attempt, from: PartyId, msg: DkgOkMsg): boolean {
    if (a.oks.has(from)) return true;
    if (!a.key) {
      a.oks.set(from, msg); // judged once our own key exists
      return false;
    }
    const groupKey = a.key.public.commitments[0] as Uint8Array;
    const body = this.okPayload(a.mask, hexToBytes(msg.transcript), hexToBytes(msg.groupKey));
    if (!verifyStatement(from, "dkg-ok", body, hexToBytes(msg.sig))) return false;
    if (!equalBytes(hexToBytes(msg.transcript), a.transcript as Uint8Array)) {
      this.dispute(a, from);
      return false;
    }
    if (msg.groupKey !== bytesToHex(groupKey)) {
      throw new TssError(TssErrorCode.DkgTranscriptMismatch, "a peer finished with a different group key", {
        details: { peer: from, att: a.mask },
      });
    }
    a.oks.set(from, msg);
    this.maybeFinish(a);
    return false;
  }

  private maybeFinish(a: Attempt): void {
    if (this.state !== "running" || !a.key || a.oks.size !== a.active.length) return;
    const key = a.key;
    const group = groupInfoFromFrost(key.public, {
      epoch: this.opts.epoch,
      sessionId: this.sessionId,
      members: this.members,
      participants: a.active,
      threshold: this.threshold,
      identifiers: Object.fromEntries(a.active.map((p) => [p, this.identifiers[p] as string])),
    });
    const keyShare: KeyShare = {
      group,
      self: this.key.id,
      identifier: key.secret.identifier,
      signingShare: key.secret.signingShare,
    };
    this.state = "done";
    this.metrics?.dkgSessions.inc({ result: "ok" });
    this.log.info("dkg complete", {
      groupKey: group.groupKey,
      participants: a.active.length,
      excluded: this.excluded.size,
    });
    // Stay reachable for peers that still miss our messages, then go quiet.
    for (const c of this.cancelTimers) c();
    this.cancelTimers = [this.clock.setTimeout(() => this.stopIo(), this.opts.lingerMs)];
    this.resolve({
      keyShare,
      group,
      excluded: [...this.excluded.values()],
      confirmations: a.active.map((p) => ({ party: p, sig: (a.oks.get(p) as DkgOkMsg).sig })),
    });
  }

  // ---- failure and exclusion --------------------------------------------------------------

  private exclude(x: DkgExclusion): void {
    if (this.excluded.has(x.party)) return;
    this.excluded.set(x.party, x);
    this.metrics?.dkgCulprits.inc({ reason: x.reason });
  }

  private restartOrFail(): void {
    if (this.state !== "running") return;
    if (this.excluded.has(this.key.id)) {
      const why = this.excluded.get(this.key.id);
      this.fail(
        new TssError(TssErrorCode.DkgExcluded, "this party was excluded from the DKG", {
          details: { ...why },
        }),
      );
      return;
    }
    const remaining = this.members.length - this.excluded.size;
    if (remaining < this.threshold) {
      this.fail(
        new TssError(
          TssErrorCode.DkgQuorumLost,
          "too many culprits: fewer members than the threshold remain",
          {
            details: { remaining, threshold: this.threshold, excluded: [...this.excluded.values()] },
          },
        ),
      );
      return;
    }
    if (this.attempt) {
      if (this.attempt.secret.coefficients) frost.DKG.clean(this.attempt.secret);
      this.attempt.ephSecret.fill(0);
    }
    this.startAttempt();
  }

  private onDeadline(): void {
    if (this.state !== "running") return;
    const a = this.attempt;
    // Name who is holding up the earliest incomplete step.
    const others = a ? a.active.filter((p) => p !== this.key.id) : [];
    const noR1 = others.filter((p) => !a?.r1.has(p));
    const noR2 = others.filter((p) => !a?.r2In.has(p));
    const missing = noR1.length ? noR1 : noR2.length ? noR2 : others.filter((p) => !a?.oks.has(p));
    this.fail(
      new TssError(TssErrorCode.DkgTimeout, "DKG did not complete before its deadline", {
        details: { att: a?.mask, missing, excluded: [...this.excluded.values()] },
      }),
    );
  }

  private fail(err: unknown): void {
    if (this.state !== "running") return;
    this.state = "failed";
    if (this.attempt?.secret.coefficients) frost.DKG.clean(this.attempt.secret);
    this.stopIo();
    const code = (err as { code?: string }).code ?? "error";
    this.metrics?.dkgSessions.inc({ result: code });
    this.log.warn("dkg failed", { code });
    this.reject(err);
  }
}

/** Runs one party's DKG to completion; the session keeps answering late peers while it lingers. */
export function runDkg(
  opts: DkgOptions,
  modules: DkgModules,
): { session: DkgSession; result: Promise<DkgResult> } {
  const session = new DkgSession(opts, modules).start();
  return { session, result: session.result };
}
