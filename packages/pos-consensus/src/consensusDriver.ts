/*
 * Over 500 lines on purpose: the loop, the WAL writes, signing behind the guard and commit
 * stay here together, the one owner of consensus state (CometBFT's consensus/state.go). What
 * could leave did, each in its own file: judging and queueing inbound messages
 * (networkInbox.ts, judgeMessage.ts, networkQueue.ts, inputBuffer.ts), catch-up (catchUp.ts),
 * rebroadcast of own messages (rebroadcast.ts), stale-message replies (onStaleMessage.ts),
 * application and fetcher calls (appCalls.ts), WAL replay (replayWal.ts), the wait before a
 * height (heightStartDelay.ts), timers (driverTimers.ts), modules and events (driverModules.ts).
 */
import {
  type Clock,
  createMetrics,
  createNoopLogger,
  EventBus,
  errorMessage,
  type Hex,
  type Logger,
  realClock,
} from "@dseq/common";
import { type AppCallContext, proposeValue, requestBlock, validateBlock } from "./appCalls.ts";
import { CatchUp, type CatchUpContext } from "./catchUp.ts";
import type {
  BlockFetcher,
  ConsensusApp,
  ConsensusNetwork,
  ValidateResult,
  Verdict,
} from "./consensusApp.ts";
import {
  type ConsensusEffect,
  type ConsensusInput,
  type ConsensusState,
  type CoreConfig,
  createHeightState,
  resumeEffects,
  step,
} from "./consensusCore.ts";
import { DoubleSignError, signStepOf } from "./doubleSignGuard.ts";
import { createDriverMetrics, type DriverMetrics } from "./driverMetrics.ts";
import {
  type ConsensusDriverModules,
  type ConsensusEvents,
  type CrashPoint,
  SimulatedCrash,
} from "./driverModules.ts";
import { type ConsensusDriverOptions, defaultConsensusDriverOptions } from "./driverOptions.ts";
import { DriverTimers } from "./driverTimers.ts";
import { ConsensusError, ConsensusErrorCode } from "./errors.ts";
import { EvidencePool } from "./evidencePool.ts";
import { type StartDelayContext, startDelayFor } from "./heightStartDelay.ts";
import { inputHeight, isOwnInput } from "./inputBuffer.ts";
import { type InboxContext, NetworkInbox } from "./networkInbox.ts";
import { onStaleMessage, type StaleContext } from "./onStaleMessage.ts";
import { OwnMessages, type RebroadcastContext, scheduleRebroadcast } from "./rebroadcast.ts";
import { type ReplayContext, replayWal } from "./replayWal.ts";
import { proposalSignBytes, voteSignBytes } from "./signBytes.ts";
import { createCachedVerifier } from "./signer.ts";
import {
  type Block,
  type CommitCertificate,
  type ConsensusMessage,
  type Evidence,
  MsgType,
  type Step,
} from "./types.ts";
import type { ValidatorSet } from "./validatorSet.ts";
import type { WalRecord } from "./wal.ts";

export type {
  BlockFetcher,
  ConsensusApp,
  ConsensusDriverModules,
  ConsensusDriverOptions,
  ConsensusEvents,
  ConsensusNetwork,
  CrashPoint,
  ValidateResult,
  Verdict,
};
export { defaultConsensusDriverOptions, SimulatedCrash };

type DriverContext = InboxContext &
  CatchUpContext &
  AppCallContext &
  RebroadcastContext &
  ReplayContext &
  StaleContext &
  StartDelayContext;

type Commit = { block: Block; certificate: CommitCertificate; validators: ValidatorSet };

/**
 * The thin, single-owner loop around the pure core (CometBFT's consensus/state.go shape):
 * inputs come from a bounded network queue and an internal queue (timeouts, the node's own
 * signed messages, application answers); each one is appended to the WAL before the core
 * acts on it; the effects are carried out in order. Own messages are signed behind the
 * double-sign guard and fsynced in the WAL before they are broadcast. On start the WAL of
 * the height is replayed; after a commit an `endHeight` record is written.
 */
export class ConsensusDriver {
  readonly events: EventBus<ConsensusEvents>;
  readonly evidence = new EvidencePool();
  private readonly opts: Required<ConsensusDriverOptions>;
  private readonly modules: ConsensusDriverModules;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: DriverMetrics;
  private readonly config: CoreConfig;
  private state: ConsensusState | undefined;
  /** Timeouts, the node's own signed messages, application answers: taken before the network. */
  private readonly internal: ConsensusInput[] = [];
  private readonly network: NetworkInbox;
  private readonly catchUp: CatchUp;
  private readonly timers: DriverTimers;
  private readonly commits = new Map<number, Commit>();
  private readonly own = new OwnMessages();
  private running = false;
  private tasks = 0;
  private started = false;
  private dead: unknown = undefined;
  private idleWaiters: (() => void)[] = [];
  private readonly abort = new AbortController();
  private heightStartedAt = 0;
  private readonly staleReplies = new Map<number, number>();
  private loopDone: Promise<void> = Promise.resolve();
  private readonly fetchAsked = new Map<string, number>();
  /** Messages signed while executing a step; they become inputs when the step is done. */
  private readonly signedPending: ConsensusInput[] = [];
  /** Driver steps that must run inside the loop (entering the next height after a delay). */
  private readonly actions: (() => Promise<void>)[] = [];
  /** What the operations in their own files read (each one's context type is narrower). */
  private readonly ctx: DriverContext;
  /** The height this node decided the previous one of and waits to enter (its start time). */
  private waitingFor: number | undefined;

  constructor(opts: ConsensusDriverOptions, modules: ConsensusDriverModules) {
    this.opts = { ...defaultConsensusDriverOptions, ...opts };
    this.modules = modules;
    this.clock = modules.clock ?? realClock;
    this.log = (modules.logger ?? createNoopLogger()).child({ module: "consensus" });
    this.events = new EventBus<ConsensusEvents>({ name: "consensus", logger: this.log });
    if ((modules.signer === null) !== (modules.guard === null)) {
      throw new ConsensusError(
        ConsensusErrorCode.Config,
        "a signer needs a double-sign guard (and a guard a signer)",
      );
    }
    this.config = {
      chainId: opts.chainId,
      self: (modules.signer?.address.toLowerCase() as Hex | undefined) ?? null,
      timeouts: this.opts.timeouts,
      verify: modules.verify ?? createCachedVerifier(),
      maxRoundsAhead: this.opts.maxRoundsAhead,
    };
    this.metrics = createDriverMetrics(modules.metrics ?? createMetrics());
    this.timers = new DriverTimers(this.clock);
    const ctx: Omit<DriverContext, "seen"> = {
      chainId: this.config.chainId,
      verify: this.config.verify,
      self: this.config.self,
      maxRoundsAhead: this.config.maxRoundsAhead,
      rebroadcastMs: this.opts.rebroadcastMs,
      clock: this.clock,
      log: this.log,
      metrics: this.metrics,
      signal: this.abort.signal,
      app: modules.app,
      fetcher: modules.fetcher,
      validators: modules.validators,
      catchUp: {
        schedule: (delay) => this.catchUp.schedule(delay),
        noteDecided: (height) => this.catchUp.noteDecided(height),
      },
      timers: this.timers,
      own: this.own,
      evidence: this.evidence,
      everyMs: this.opts.rebroadcastMs,
      state: () => this.state,
      height: () => this.state?.height,
      halted: () => this.dead !== undefined,
      isCrash: (err) => err instanceof SimulatedCrash,
      task: (fn, what) => this.task(fn, what),
      later: (fn, height, attempt) => this.later(fn, height, attempt),
      pushInternal: (input) => this.pushInternal(input),
      onQueued: () => this.kick(),
      markSeen: (input, height) => this.network.markSeen(input, height),
      onStale: (message) => onStaleMessage(this.ctx, message),
      commits: this.commits,
      replies: this.staleReplies,
      replyEveryMs: this.opts.rebroadcastMs,
      commitDelayMs: this.opts.commitDelayMs,
      maxStartDelayMs: this.opts.maxStartDelayMs,
      recordEvidence: (ev) => this.recordEvidence(ev),
      certificateOf: (height) => this.commits.get(height)?.certificate,
      broadcast: (message) => modules.network.broadcast(message),
    };
    this.network = new NetworkInbox(this.opts, ctx);
    this.ctx = { ...ctx, seen: this.network.seen };
    this.catchUp = new CatchUp(this.ctx);
  }

  /** Height being decided (undefined before start). */
  get height(): number | undefined {
    return this.state?.height;
  }

  get round(): number | undefined {
    return this.state?.round;
  }

  get step(): Step | undefined {
    return this.state?.step;
  }

  /** Whether the driver stopped because of an error (a crash hook, a broken invariant). */
  get halted(): unknown {
    return this.dead;
  }

  /** A recent commit, to serve peers that fell behind. */
  recentCommit(height: number): { block: Block; certificate: CommitCertificate } | undefined {
    const c = this.commits.get(height);
    return c ? { block: c.block, certificate: c.certificate } : undefined;
  }

  /**
   * Starts deciding `height` (the application's last committed height + 1): replays what the
   * WAL holds for that height, then resumes.
   */
  async start(height: number): Promise<void> {
    if (this.started) throw new ConsensusError(ConsensusErrorCode.Started, "driver already started");
    this.started = true;
    const records = await this.modules.wal.records();
    const started = step(await this.newHeightState(height), { type: "start" });
    const { state, replayed } = replayWal(this.ctx, started.state, records, height);
    if (replayed > 0) this.log.info("WAL replayed", { height, records: replayed, round: state.round });
    if (
      !records.some((r) => r.kind === "input" && r.height >= height) &&
      this.modules.wal.size > this.opts.walMaxBytes
    ) {
      await this.modules.wal.replace([]);
    }
    this.state = state;
    this.heightStartedAt = this.clock.now();
    this.log.debug("height entered", { height });
    this.metrics.height.set(height);
    scheduleRebroadcast(this.ctx, height);
    this.running = true;
    try {
      // Replayed: only what is still missing (resumeEffects); fresh: the start's own effects.
      await this.execute(replayed > 0 ? resumeEffects(state) : started.effects);
      this.flushSigned();
    } catch (err) {
      this.halt(err);
    } finally {
      this.running = false;
    }
    this.kick();
  }

  /** Stops timers and the loop; in-flight application calls are abandoned. */
  async stop(): Promise<void> {
    this.dead ??= new Error("stopped");
    this.abort.abort();
    this.timers.cancelAll();
    this.catchUp.cancel();
    // The input being processed finishes (its WAL write included); application calls still
    // in flight are abandoned, their answers dropped.
    await this.loopDone;
  }

  /**
   * An inbound message from the network; true when it was taken (queued or buffered). The
   * same as `judge(message) === "accept"`.
   */
  receive(message: ConsensusMessage): boolean {
    return this.judge(message) === "accept";
  }

  /**
   * Judges an inbound message and, when it is accepted, takes it (queued for the loop, or
   * buffered for the next height): call it once per message, from the gossip validation
   * hook, and forward the message only on "accept". "reject": malformed, or not signed by a
   * validator of its height. "ignore": signed content already taken (whatever the gossip
   * envelope), a decided height (a straggler is answered, equivocation recorded), too far
   * ahead, or over a buffer or per-sender bound. Nothing but accepted messages reaches the WAL.
   * The rules are in judgeMessage.ts.
   */
  judge(message: ConsensusMessage): Verdict {
    if (this.dead !== undefined || !this.state) return "ignore";
    return this.network.judge(this.state, message);
  }

  /**
   * Asks the application again when the next height starts, if the driver is waiting for it:
   * the answer may have moved earlier (the node learnt that the height's round-0 proposer is
   * unreachable, ADR 0191). Enters the height now when it is due; otherwise the wait goes on.
   */
  recheckStart(): void {
    const height = this.waitingFor;
    if (height === undefined || this.dead !== undefined) return;
    if (startDelayFor(this.ctx, height) > 0) return;
    this.waitingFor = undefined;
    this.actions.push(() => this.enterHeight(height));
    this.kick();
  }

  /** Resolves when no input is waiting and no application call or signature is in flight. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // -------------------------------------------------------------------------------------

  /** True when no input waits and nothing is in flight. */
  get idle(): boolean {
    return this.isIdle();
  }

  private isIdle(): boolean {
    return (
      !this.running &&
      this.tasks === 0 &&
      (this.dead !== undefined ||
        (this.actions.length === 0 && this.internal.length === 0 && this.network.length === 0))
    );
  }

  private checkIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private pushInternal(input: ConsensusInput): void {
    if (this.dead !== undefined) return;
    this.internal.push(input);
    this.kick();
  }

  private kick(): void {
    if (this.running || this.dead !== undefined || !this.state) {
      this.checkIdle();
      return;
    }
    this.running = true;
    this.loopDone = this.loop();
  }

  /** The one loop: internal inputs first (they unblock the node's own progress), then network. */
  private async loop(): Promise<void> {
    try {
      for (;;) {
        if (this.dead !== undefined) break;
        const action = this.actions.shift();
        if (action) {
          await action();
          this.flushSigned();
          continue;
        }
        let input = this.internal.shift();
        let own = input !== undefined && isOwnInput(input, this.config.self);
        if (!input) {
          input = this.network.next();
          own = false;
        }
        if (!input) break;
        await this.process(input, own);
      }
    } catch (err) {
      this.halt(err);
    } finally {
      this.running = false;
      this.checkIdle();
    }
  }

  private async process(input: ConsensusInput, own: boolean): Promise<void> {
    const state = this.state!;
    if (inputHeight(input, state.height) !== state.height) return;
    if (own) this.network.markSeen(input, state.height);
    this.crash("input.beforeWal");
    // Own messages are fsynced before they can leave the process (the broadcast effect).
    await this.modules.wal.append({ kind: "input", height: state.height, input }, own);
    this.crash("input.afterWal");
    const r = step(state, input);
    this.state = r.state;
    if (own) this.own.remember(input);
    await this.execute(r.effects);
    this.flushSigned();
  }

  private async execute(effects: ConsensusEffect[]): Promise<void> {
    for (const e of effects) {
      if (this.dead !== undefined) return;
      switch (e.type) {
        case "signVote":
        case "signProposal":
          await this.sign(e);
          break;
        case "broadcast":
          this.crash("broadcast.before");
          this.modules.network.broadcast(e.message);
          this.crash("broadcast.after");
          break;
        case "scheduleTimeout": {
          const { height, round, step: s } = e;
          // Timeouts only bound liveness, never safety: the node may shorten one (e.g. a
          // propose timeout when the round's proposer is not reachable at all).
          const ms = this.modules.adjustTimeout?.(s, height, round, e.ms) ?? e.ms;
          this.log.debug("timeout scheduled", { height, round, step: s, ms });
          this.timers.after(ms, () => {
            this.log.debug("timeout", { height, round, step: s });
            this.pushInternal({ type: "timeout", height, round, step: s });
          });
          break;
        }
        case "requestValue":
          proposeValue(this.ctx, e.height, e.round);
          break;
        case "validate":
          validateBlock(this.ctx, e.height, e.block, 0);
          break;
        case "fetchBlock":
          requestBlock(this.ctx, this.fetchAsked, e.height, e.blockHash);
          break;
        case "decide":
          await this.commit(e.height, e.round, e.block, e.certificate);
          return; // the rest belonged to the finished height
        case "evidence":
          this.recordEvidence(e.evidence);
          break;
        case "rejected":
          this.metrics.rejected.inc({ reason: e.reason });
          this.log.debug("message rejected", { reason: e.reason, from: e.from });
          break;
        case "newRound":
          this.metrics.round.set(e.round);
          this.own.enterRound(e.round);
          this.log.debug("new round", { height: e.height, round: e.round });
          this.events.emit("consensus.newRound", { height: e.height, round: e.round });
          break;
      }
    }
  }

  private async sign(e: Extract<ConsensusEffect, { type: "signVote" | "signProposal" }>): Promise<void> {
    const signer = this.modules.signer;
    const guard = this.modules.guard;
    if (!signer || !guard) return;
    const chainId = this.config.chainId;
    const [bytes, type, height, round] =
      e.type === "signVote"
        ? [voteSignBytes(chainId, e.vote), e.vote.type, e.vote.height, e.vote.round]
        : [proposalSignBytes(chainId, e.proposal), MsgType.Proposal, e.proposal.height, e.proposal.round];
    this.crash("sign.beforeGuard");
    try {
      await guard.authorize(height, round, signStepOf(type), bytes);
    } catch (err) {
      if (!(err instanceof DoubleSignError)) throw err;
      this.metrics.refused.inc();
      this.log.error("double-sign guard refused to sign", { height, round, type, err: errorMessage(err) });
      this.events.emit("consensus.signRefused", { height, round, type, reason: errorMessage(err) });
      return;
    }
    this.crash("sign.afterGuard");
    const sig = await signer.sign(bytes);
    this.crash("sign.afterSign");
    const signature = `0x${Buffer.from(sig).toString("hex")}` as Hex;
    this.signedPending.push(
      e.type === "signVote"
        ? { type: "vote", vote: { ...e.vote, signature } }
        : { type: "proposal", proposal: { ...e.proposal, signature }, block: e.block },
    );
  }

  /** Own signed messages go first, in the order they were signed. */
  private flushSigned(): void {
    if (this.signedPending.length > 0) this.internal.unshift(...this.signedPending.splice(0));
  }

  private async commit(
    height: number,
    round: number,
    block: Block,
    certificate: CommitCertificate,
  ): Promise<void> {
    const state = this.state!;
    this.crash("commit.before");
    await this.modules.app.commit(height, block, certificate);
    this.crash("commit.afterApp");
    await this.modules.wal.append({ kind: "endHeight", height }, true);
    this.crash("commit.afterEndHeight");
    this.commits.set(height, { block, certificate, validators: state.validators.set });
    for (const h of this.commits.keys()) {
      if (h > height - this.opts.recentCommits) break;
      this.commits.delete(h);
    }
    this.metrics.commits.inc();
    this.metrics.heightSeconds.observe((this.clock.now() - this.heightStartedAt) / 1000);
    this.log.debug("committed", { height, round, hash: block.hash });
    this.events.emit("consensus.committed", { height, round, blockHash: block.hash, certificate });
    // Everyone behind learns of the decision at once (catch-up needs only the certificate).
    this.modules.network.broadcast({ type: "certificate", certificate });
    // Own messages signed in the deciding step (a precommit) still go out, WAL first.
    for (const input of this.signedPending.splice(0)) await this.process(input, true);
    if (this.modules.wal.size > this.opts.walMaxBytes)
      await this.modules.wal.replace([{ kind: "endHeight", height }]);
    const delay = startDelayFor(this.ctx, height + 1);
    if (delay <= 0) {
      await this.enterHeight(height + 1);
      return;
    }
    // Wait, decided, for the next slot; messages of the next height are buffered meanwhile.
    this.timers.cancelAll();
    this.catchUp.cancel();
    this.waitingFor = height + 1;
    this.timers.after(delay, () => {
      if (this.dead !== undefined || this.waitingFor !== height + 1) return; // entered early
      this.waitingFor = undefined;
      this.actions.push(() => this.enterHeight(height + 1));
      this.kick();
    });
  }

  private async enterHeight(height: number): Promise<void> {
    this.waitingFor = undefined;
    this.timers.cancelAll();
    this.catchUp.leaveHeight();
    this.internal.length = 0;
    this.network.leaveHeight(height);
    this.own.clear();
    const fresh = await this.newHeightState(height);
    const r = step(fresh, { type: "start" });
    this.state = r.state;
    this.heightStartedAt = this.clock.now();
    this.log.debug("height entered", { height });
    this.metrics.height.set(height);
    scheduleRebroadcast(this.ctx, height);
    this.network.enterHeight(height);
    this.catchUp.enterHeight(height);
    await this.execute(r.effects);
  }

  private async newHeightState(height: number): Promise<ConsensusState> {
    const validators = await this.modules.validators.forHeight(height);
    return createHeightState(this.config, height, validators);
  }

  private recordEvidence(ev: Evidence): void {
    if (!this.evidence.add(ev)) return;
    this.metrics.evidence.inc({ type: ev.type });
    this.log.warn("equivocation evidence", {
      type: ev.type,
      ...("validator" in ev ? { validator: ev.validator } : {}),
    });
    this.events.emit("consensus.evidence", { evidence: ev });
  }

  /** Runs `fn` after an exponential backoff, if the node is still alive at `height`. */
  private later(fn: () => void, height: number, attempt: number): void {
    this.timers.after(Math.min(this.opts.rebroadcastMs * 2 ** Math.min(attempt, 4), 30_000), () => {
      if (this.state?.height === height && this.dead === undefined) fn();
    });
  }

  /** Runs an application or network call beside the loop; its answer comes back as an input. */
  private task(fn: () => Promise<void>, what: string): void {
    this.tasks++;
    fn()
      .catch((err: unknown) => {
        if (err instanceof SimulatedCrash) return this.halt(err);
        if (this.dead === undefined) this.log.warn(`${what} failed`, { err: errorMessage(err) });
      })
      .finally(() => {
        this.tasks--;
        this.checkIdle();
      });
  }

  private crash(point: CrashPoint): void {
    this.modules.crashHook?.(point);
  }

  private halt(err: unknown): void {
    if (this.dead !== undefined) return;
    this.dead = err;
    this.abort.abort();
    this.timers.cancelAll();
    this.catchUp.cancel();
    if (!(err instanceof SimulatedCrash)) {
      this.log.error("consensus halted", { err: errorMessage(err) });
      this.events.emit("consensus.halted", { reason: errorMessage(err) });
    }
    this.checkIdle();
  }
}

export type { WalRecord };
