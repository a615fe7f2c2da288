import { randomBytes } from "node:crypto";
import { type Clock, createNoopLogger, type Hex, type Logger, type Metrics, realClock } from "@dseq/common";
import { decodeMessage, encodeMessage } from "../codec.ts";
import { type PartyId, type PartyKey, sortMembers } from "../identity.ts";
import type { TssMessage } from "../messages.ts";
import { createTssMetrics, type TssMetrics } from "../metrics.ts";
import { type Rng, thresholdFor } from "../suite.ts";
import type { TransportMessage, TssTransport } from "../transport/transport.ts";
import { createDkgState, stepDkg } from "./dkgCore.ts";
import { dkgSessionId } from "./dkgStatements.ts";
import { type DkgEffect, type DkgInput, DkgPhase, type DkgResult, type DkgState } from "./dkgTypes.ts";

export { dkgSessionId } from "./dkgStatements.ts";
export { type DkgExclusion, DkgExclusionReason, type DkgResult } from "./dkgTypes.ts";

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
  /** After success, keep answering late peers this long (unless stopped). Default 10 s. */
  lingerMs?: number;
};

export const defaultDkgOptions = {
  deadlineMs: 60_000,
  resendIntervalMs: 250,
  lingerMs: 10_000,
} as const satisfies Partial<DkgOptions>;

export type DkgModules = {
  key: PartyKey;
  transport: TssTransport;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  /** Default: the system RNG. Tests pass a seeded one. */
  rng?: Rng;
};

const systemRng: Rng = (n = 32) => new Uint8Array(randomBytes(n));

/**
 * The driver of one party's DKG (the core is `dkgCore.ts`): subscribes to the transport,
 * decodes messages into core inputs, ticks retransmission and the deadline, and carries out
 * the core's effects (send, broadcast, log, metrics, settle `result`).
 */
export class DkgSession {
  readonly sessionId: Hex;
  readonly members: PartyId[];
  readonly threshold: number;
  readonly result: Promise<DkgResult>;

  private state: DkgState;
  private readonly opts: Required<Pick<DkgOptions, "deadlineMs" | "resendIntervalMs" | "lingerMs">>;
  private readonly transport: TssTransport;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: TssMetrics | undefined;
  /** Messages are immutable once the core emits them: encode each once, however often resent. */
  private readonly encoded = new WeakMap<TssMessage, Uint8Array>();
  private unsubscribe: (() => void) | undefined;
  private cancelTimers: (() => void)[] = [];
  private resolve!: (r: DkgResult) => void;
  private reject!: (e: unknown) => void;

  constructor(opts: DkgOptions, modules: DkgModules) {
    this.members = sortMembers(opts.members);
    this.threshold = opts.threshold ?? thresholdFor(this.members.length);
    this.sessionId = opts.sessionId ?? dkgSessionId(opts.epoch, this.members);
    this.opts = {
      deadlineMs: opts.deadlineMs ?? defaultDkgOptions.deadlineMs,
      resendIntervalMs: opts.resendIntervalMs ?? defaultDkgOptions.resendIntervalMs,
      lingerMs: opts.lingerMs ?? defaultDkgOptions.lingerMs,
    };
    this.state = createDkgState({
      epoch: opts.epoch,
      members: this.members,
      threshold: this.threshold,
      sessionId: this.sessionId,
      key: modules.key,
      resendIntervalMs: this.opts.resendIntervalMs,
      rng: modules.rng ?? systemRng,
    });
    this.transport = modules.transport;
    this.clock = modules.clock ?? realClock;
    this.log = (modules.logger ?? createNoopLogger()).child({
      module: "tss-dkg",
      sid: this.sessionId.slice(0, 18),
    });
    this.metrics = createTssMetrics(modules.metrics);
    this.result = new Promise<DkgResult>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // A caller that only awaits later must not see an unhandled rejection in between.
    this.result.catch(() => {});
  }

  start(): this {
    if (this.state.phase !== DkgPhase.Idle) return this;
    this.unsubscribe = this.transport.subscribe((m) => this.onTransport(m));
    this.cancelTimers.push(
      this.clock.setTimeout(() => this.step({ type: "deadline" }), this.opts.deadlineMs),
    );
    this.step({ type: "start" });
    const tick = (): void => {
      if (this.state.phase !== DkgPhase.Running) return;
      this.step({ type: "resend" });
      this.cancelTimers.push(this.clock.setTimeout(tick, this.opts.resendIntervalMs));
    };
    this.cancelTimers.push(this.clock.setTimeout(tick, this.opts.resendIntervalMs));
    return this;
  }

  /** Stops listening; a running session fails with TSS_CLOSED. */
  stop(): void {
    this.step({ type: "close" });
    this.stopIo();
  }

  /** @deprecated the old name of `stop` (lifecycle verbs are start/stop for sessions). */
  close(): void {
    this.stop();
  }

  private stopIo(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const c of this.cancelTimers) c();
    this.cancelTimers = [];
  }

  private onTransport(m: TransportMessage): void {
    const message = decodeMessage(m.data);
    if (!message) return;
    this.step({ type: "message", from: m.from, message, now: this.clock.now() });
  }

  private step(input: DkgInput): void {
    const { state, effects } = stepDkg(this.state, input);
    this.state = state;
    for (const e of effects) this.apply(e);
  }

  private bytes(m: TssMessage): Uint8Array {
    let b = this.encoded.get(m);
    if (!b) {
      b = encodeMessage(m);
      this.encoded.set(m, b);
    }
    return b;
  }

  private apply(e: DkgEffect): void {
    switch (e.type) {
      case "broadcast":
        this.transport.broadcast(this.bytes(e.message));
        return;
      case "send":
        this.transport.send(e.to, this.bytes(e.message));
        return;
      case "log":
        this.log[e.level](e.text, e.fields);
        return;
      case "culprit":
        this.metrics?.dkgCulprits.inc({ reason: e.exclusion.reason });
        return;
      case "done":
        this.metrics?.dkgSessions.inc({ result: "ok" });
        // Stay reachable for peers that still miss our messages, then go quiet.
        for (const c of this.cancelTimers) c();
        this.cancelTimers = [this.clock.setTimeout(() => this.stopIo(), this.opts.lingerMs)];
        this.resolve(e.result);
        return;
      case "failed": {
        this.stopIo();
        const code = (e.error as { code?: string }).code ?? "error";
        this.metrics?.dkgSessions.inc({ result: code });
        this.log.warn("dkg failed", { code });
        this.reject(e.error);
        return;
      }
    }
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
