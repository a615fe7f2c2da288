import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Clock, createNoopLogger, type Hex, type Logger, type Metrics, realClock } from "@dseq/common";
import {
  type ApproveFn,
  type DkgSession,
  type KeyShareSource,
  KeyShareStore,
  NonceStore,
  type PartyId,
  type PartyKey,
  type ScryptParams,
  Signer,
  SigningCoordinator,
  type TssTransport,
} from "@dseq/mpc-tss";
import {
  type RotationEffect,
  type RotationInput,
  type RotationState,
  rotationMembers,
  signingKey,
  stepRotation,
  type TssEpochKey,
  type TssSetAtSpan,
} from "./keyRotation.ts";
import { PendingSignatures, sessionKey } from "./pendingSignatures.ts";
import { readRotationState, writeRotationState } from "./rotationStateFile.ts";
import { runTssDkg } from "./runTssDkg.ts";
import { result, signDigest, type TssSignature, verifyTssSignature } from "./signDigest.ts";
import { decodeSignedAnnouncement } from "./signedAnnouncement.ts";
import { tssApprove } from "./tssApprove.ts";
import { NodeTssError, NodeTssErrorCode } from "./tssErrors.ts";
import { createNodeTssMetrics, type NodeTssMetrics } from "./tssMetrics.ts";

/** What the service needs of the chain: the set per span and a call when a span starts. */
export interface TssValidatorSource {
  /** The set of the span in force now (at the committed head). */
  current(): TssSetAtSpan;
  setAt(height: bigint): TssSetAtSpan;
  /** Called with each span's set as the span starts; returns the unsubscribe function. */
  onSpanStart(handler: (set: TssSetAtSpan) => void): () => void;
}

/** mpc-tss's transport plus the membership filter p2p's TssTransport has. */
export type TssNetwork = TssTransport & { setMembers?(parties: readonly Hex[]): void };

export type TssServiceOptions = {
  chainId: bigint;
  /** The node's data dir; the service keeps everything in `<dataDir>/tss/`. */
  dataDir: string;
  /** The node keystore's password: seals key shares and nonces. Never logged. */
  password: string;
  /** The caller's policy for every share (the batch submitter's). */
  approve: ApproveFn;
  scrypt?: ScryptParams;
  dkgDeadlineMs?: number;
  dkgRetryDelayMs?: number;
  /** DKG retransmission period: every resent broadcast is a new signed gossip message for all. */
  dkgResendIntervalMs?: number;
  signDeadlineMs?: number;
  /** How long each coordinator in the fallback order gets before the next one starts. */
  coordinatorSlotMs?: number;
  maxSessionsPerCoordinator?: number;
  /** The inbox's rotationDigest(newKey) at its current key epoch; signers then check rotation digests. */
  rotationDigest?: (newKey: Hex) => Uint8Array;
};

export const defaultTssServiceOptions = {
  dkgDeadlineMs: 60_000,
  dkgRetryDelayMs: 2_000,
  // mpc-tss defaults to 250 ms for its lossy test network; over libp2p (reliable streams, every
  // resent broadcast re-signed and re-verified by all) 1 s halved a 7-member DKG in the bench.
  dkgResendIntervalMs: 1_000,
  signDeadlineMs: 30_000,
  coordinatorSlotMs: 3_000,
  maxSessionsPerCoordinator: 64,
} as const;

export type TssServiceModules = {
  key: PartyKey;
  transport: TssNetwork;
  validators: TssValidatorSource;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
};

export type TssStatus = {
  /** This node holds a share of the key L1 expects. */
  inGroup: boolean;
  groupKey?: Hex;
  epoch?: number;
  pendingGroupKey?: Hex;
  dkgRunning: boolean;
  /** Duration of this node's last successful DKG session (ms). */
  lastDkgMs?: number;
};

const RECENT_SIGNATURES = 256;

/**
 * The node's TSS: runs a DKG when a span starts with a new set, keeps the key per epoch (shares
 * and nonces sealed under the keystore password in `<dataDir>/tss/`), signs digests with the
 * key L1 expects, answers other coordinators through `approve`, and rotates keys (ADR 0151).
 * Decisions are `stepRotation`'s; this class only carries out its effects.
 */
export class TssService {
  private readonly opts: Required<Omit<TssServiceOptions, "scrypt" | "rotationDigest">> &
    Pick<TssServiceOptions, "scrypt" | "rotationDigest">;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly metrics: NodeTssMetrics | undefined;
  private readonly pending: PendingSignatures;
  private readonly recent = new Map<string, Uint8Array>();
  private readonly statePath: string;
  private state: RotationState = {};
  private store!: KeyShareStore;
  private signer!: Signer;
  private coordinator!: SigningCoordinator;
  private dkg: { session: DkgSession; span: bigint; attempt: number } | undefined;
  private readonly lingering = new Set<DkgSession>();
  private queue: Promise<void> = Promise.resolve();
  private cleanups: (() => void)[] = [];
  private stopped = false;
  private lastDkgMs: number | undefined;

  private readonly modules: TssServiceModules;

  constructor(opts: TssServiceOptions, modules: TssServiceModules) {
    this.modules = modules;
    this.opts = { ...defaultTssServiceOptions, ...opts };
    this.log = (modules.logger ?? createNoopLogger()).child({ module: "tss" });
    this.clock = modules.clock ?? realClock;
    this.metrics = createNodeTssMetrics(modules.metrics);
    this.pending = new PendingSignatures(this.clock);
    this.statePath = join(opts.dataDir, "tss", "state.json");
  }

  get self(): PartyId {
    return this.modules.key.id;
  }

  async start(): Promise<this> {
    const dir = join(this.opts.dataDir, "tss");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.store = await KeyShareStore.open({
      dir: join(dir, "keys"),
      password: this.opts.password,
      ...(this.opts.scrypt ? { scrypt: this.opts.scrypt } : {}),
    });
    const nonces = await NonceStore.open({ dir: join(dir, "nonces"), key: this.store.dataKey("nonces") });
    this.state = readRotationState(this.statePath);
    const { key, transport } = this.modules;
    const shares: KeyShareSource = {
      byGroupKey: (gk) => (this.keyOf(gk) ? this.store.byGroupKey(gk) : undefined),
    };
    const approve = tssApprove({
      keyOf: (gk) => this.keyOf(gk),
      approve: this.opts.approve,
      pendingKey: () => this.state.pending?.groupKey,
      ...rotationOption(this.opts),
      onRefusal: (reason) => this.metrics?.refusals.inc({ reason }),
      logger: this.log,
    });
    const common = {
      key,
      transport,
      clock: this.clock,
      logger: this.log,
      ...(this.modules.metrics ? { metrics: this.modules.metrics } : {}),
    };
    this.signer = new Signer(
      { approve, maxSessionsPerCoordinator: this.opts.maxSessionsPerCoordinator },
      { ...common, shares, nonces },
    ).start();
    this.coordinator = new SigningCoordinator({}, common).start();
    this.cleanups.push(transport.subscribe((m) => this.onAnnouncement(m.data)));
    this.runEffects([{ type: "members", parties: rotationMembers(this.state) }]);
    const d = this.state.dkg;
    if (d) {
      const stored = this.store.get(Number(d.span));
      // A share sealed before the crash: the DKG finished. Otherwise the others move on to the next attempt.
      if (stored)
        await this.apply({
          type: "dkgDone",
          span: d.span,
          attempt: d.attempt,
          groupKey: stored.group.groupKey,
        });
      else this.runEffects([{ type: "runDkg", ...d, attempt: d.attempt + 1 }]);
      if (!stored) this.state = { ...this.state, dkg: { ...d, attempt: d.attempt + 1 } };
    }
    this.cleanups.push(
      this.modules.validators.onSpanStart((set) => void this.onSpan(set).catch(() => undefined)),
    );
    await this.onSpan(this.modules.validators.current());
    return this;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const c of this.cleanups) c();
    this.cleanups = [];
    this.dkg?.session.stop();
    for (const s of this.lingering) s.stop();
    this.pending.rejectAll(() => new NodeTssError(NodeTssErrorCode.Stopped, "tss service stopped"));
    this.coordinator?.stop();
    await this.signer?.stop();
    await this.queue.catch(() => undefined);
  }

  /** Signs a 32-byte digest with the key L1 expects now; every group member calls it for the same digest. */
  sign(
    digest: Uint8Array,
    context: Record<string, unknown> = {},
    opts: { leader?: PartyId; deadlineMs?: number } = {},
  ): Promise<TssSignature> {
    if (digest.length !== 32)
      return Promise.reject(new NodeTssError(NodeTssErrorCode.BadDigest, "digest must be 32 bytes"));
    const key = signingKey(this.state);
    const share = key ? this.store.byGroupKey(key.groupKey) : undefined;
    if (!key || !share)
      return Promise.reject(
        new NodeTssError(NodeTssErrorCode.NoGroupKey, "this node holds no share of the key L1 expects"),
      );
    const known = this.recent.get(sessionKey(key.groupKey, digest));
    if (known) return Promise.resolve(result(share.group, digest, known));
    const started = this.clock.now();
    return signDigest(
      {
        self: this.self,
        transport: this.modules.transport,
        coordinator: this.coordinator,
        pending: this.pending,
        clock: this.clock,
        logger: this.log,
        coordinatorSlotMs: this.opts.coordinatorSlotMs,
        onCoordinated: (_ms, attempts) => this.metrics?.attempts.inc({}, attempts),
      },
      {
        group: share.group,
        validators: key.validators,
        digest,
        context,
        ...(opts.leader ? { leader: opts.leader } : {}),
        deadlineMs: opts.deadlineMs ?? this.opts.signDeadlineMs,
      },
    ).then((s) => {
      this.metrics?.signSeconds.observe((this.clock.now() - started) / 1000);
      return s;
    });
  }

  /** The rotation waiting for L1: the old key (what L1 has) must sign `rotateGroupKey(to)`. */
  rotation(): { from: Hex; to: Hex; epoch: number } | undefined {
    const { current, pending } = this.state;
    return current && pending
      ? { from: current.groupKey, to: pending.groupKey, epoch: pending.epoch }
      : undefined;
  }

  /** `GroupKeyRotated(newKey)` seen (confirmed) on L1: shares switch, the old key stops signing. */
  confirmRotation(newGroupKey: Hex): Promise<void> {
    return this.apply({ type: "rotated", groupKey: newGroupKey, self: this.self });
  }

  status(): TssStatus {
    const k = this.state.current;
    return {
      inGroup: signingKey(this.state) !== undefined,
      ...(k ? { groupKey: k.groupKey, epoch: k.epoch } : {}),
      ...(this.state.pending ? { pendingGroupKey: this.state.pending.groupKey } : {}),
      dkgRunning: this.state.dkg !== undefined,
      ...(this.lastDkgMs !== undefined ? { lastDkgMs: this.lastDkgMs } : {}),
    };
  }

  /** The key L1 expects (undefined before the first DKG). */
  groupKey(): Hex | undefined {
    return this.state.current?.groupKey;
  }

  private keyOf(gk: Hex): TssEpochKey | undefined {
    const { current, pending } = this.state;
    if (current?.holder && current.groupKey === gk) return current;
    if (pending?.groupKey === gk) return pending;
    return undefined;
  }

  private onSpan(set: TssSetAtSpan): Promise<void> {
    return this.apply({ type: "spanStarted", span: set.span, validators: set.validators, self: this.self });
  }

  /** Steps the core, persists the new state, then carries out the effects; one input at a time. */
  private apply(input: RotationInput): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.stopped) return;
      const { state, effects } = stepRotation(this.state, input);
      if (state === this.state && effects.length === 0) return;
      for (const e of effects) if (e.type === "confirmShare") await this.store.confirmRotation(e.epoch);
      this.state = state;
      writeRotationState(this.statePath, state);
      this.runEffects(effects);
    };
    this.queue = this.queue.then(run, run);
    return this.queue.catch((err) => {
      this.log.error("tss state step failed", { err: String(err), input: input.type });
      throw err;
    });
  }

  private runEffects(effects: RotationEffect[]): void {
    for (const e of effects) {
      if (e.type === "members") this.modules.transport.setMembers?.(e.parties);
      else if (e.type === "log") this.log[e.level](e.msg, e.ctx);
      else if (e.type === "stopDkg") this.stopDkg();
      else if (e.type === "runDkg") this.startDkg(e);
    }
  }

  private stopDkg(): void {
    this.dkg?.session.stop();
    this.dkg = undefined;
  }

  private startDkg(e: Extract<RotationEffect, { type: "runDkg" }>): void {
    this.stopDkg();
    const started = this.clock.now();
    const { session, result } = runTssDkg(
      {
        key: this.modules.key,
        transport: this.modules.transport,
        store: this.store,
        logger: this.log,
        ...(this.modules.metrics ? { metrics: this.modules.metrics } : {}),
      },
      {
        chainId: this.opts.chainId,
        span: e.span,
        validators: e.validators,
        threshold: e.threshold,
        attempt: e.attempt,
        deadlineMs: this.opts.dkgDeadlineMs,
        resendIntervalMs: this.opts.dkgResendIntervalMs,
      },
    );
    this.dkg = { session, span: e.span, attempt: e.attempt };
    result.then(
      (group) => {
        this.metrics?.dkg.inc({ result: "ok" });
        this.lastDkgMs = this.clock.now() - started;
        this.metrics?.dkgSeconds.observe(this.lastDkgMs / 1000);
        if (this.dkg?.session === session) this.dkg = undefined;
        this.lingering.add(session);
        this.timer(() => {
          session.stop();
          this.lingering.delete(session);
        }, 15_000);
        void this.apply({
          type: "dkgDone",
          span: e.span,
          attempt: e.attempt,
          groupKey: group.groupKey,
        }).catch(() => undefined);
      },
      (err) => {
        this.metrics?.dkg.inc({ result: "failed" });
        if (this.stopped || this.dkg?.session !== session) return;
        this.log.warn("tss dkg failed", { span: e.span.toString(), attempt: e.attempt, err: String(err) });
        this.timer(() => {
          void this.apply({ type: "dkgFailed", span: e.span, attempt: e.attempt }).catch(() => undefined);
        }, this.opts.dkgRetryDelayMs);
      },
    );
  }

  /** A timer that `stop()` cancels. */
  private timer(fn: () => void, ms: number): void {
    const cancel = this.clock.setTimeout(() => {
      this.cleanups = this.cleanups.filter((c) => c !== cancel);
      fn();
    }, ms);
    this.cleanups.push(cancel);
  }

  private onAnnouncement(data: Uint8Array): void {
    const a = decodeSignedAnnouncement(data);
    if (!a || !this.keyOf(a.groupKey)) return;
    const k = sessionKey(a.groupKey, a.digest);
    if (this.recent.has(k) || !verifyTssSignature(a.groupKey, a.digest, a.signature)) return;
    this.recent.set(k, a.signature);
    if (this.recent.size > RECENT_SIGNATURES) this.recent.delete(this.recent.keys().next().value as string);
    const share = this.store.byGroupKey(a.groupKey);
    if (share) this.pending.get(k)?.resolve(result(share.group, a.digest, a.signature));
  }
}

function rotationOption(o: { rotationDigest?: (k: Hex) => Uint8Array }): {
  rotationDigest?: (k: Hex) => Uint8Array;
} {
  return o.rotationDigest ? { rotationDigest: o.rotationDigest } : {};
}
