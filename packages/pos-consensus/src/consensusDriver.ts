import {
  type Clock,
  createMetrics,
  createNoopLogger,
  DseqError,
  EventBus,
  errorMessage,
  type Hex,
  type Logger,
  type Metrics,
  realClock,
} from "@dseq/common";
import { isBlockShape, isMessageShape } from "./codec.ts";
import { checkCommitted } from "./commitCertificate.ts";
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
import { DoubleSignError, type DoubleSignGuard, signStepOf } from "./doubleSignGuard.ts";
import { createDriverMetrics, type DriverMetrics } from "./driverMetrics.ts";
import { type ConsensusDriverOptions, defaultConsensusDriverOptions } from "./driverOptions.ts";
import { ConsensusErrorCode } from "./errors.ts";
import { EvidencePool } from "./evidencePool.ts";
import { heightStartDelay } from "./heightStartDelay.ts";
import {
  FutureBuffer,
  messageHeight,
  messageKey,
  messageRound,
  messageToInput,
  SeenSet,
} from "./inputBuffer.ts";
import { onStaleMessage } from "./onStaleMessage.ts";
import { proposalSignBytes, voteSignBytes } from "./signBytes.ts";
import { createCachedVerifier, type Signer, type VerifyFn } from "./signer.ts";
import {
  type Block,
  type CommitCertificate,
  type ConsensusMessage,
  type Evidence,
  MsgType,
  type Step,
  type TimeoutStep,
} from "./types.ts";
import type { ValidatorSet, ValidatorSource } from "./validatorSet.ts";
import { verifyMessage } from "./verifyMessage.ts";
import type { Wal, WalEntry, WalRecord } from "./wal.ts";

export type { BlockFetcher, ConsensusApp, ConsensusDriverOptions, ConsensusNetwork, ValidateResult, Verdict };
export { defaultConsensusDriverOptions };

export type ConsensusEvents = {
  "consensus.committed": { height: number; round: number; blockHash: Hex; certificate: CommitCertificate };
  "consensus.newRound": { height: number; round: number };
  "consensus.evidence": { evidence: Evidence };
  "consensus.signRefused": { height: number; round: number; type: number; reason: string };
  "consensus.halted": { reason: string };
};

/** Named points where tests can make the driver "crash" (drop everything in memory). */
export type CrashPoint =
  | "input.beforeWal"
  | "input.afterWal"
  | "sign.beforeGuard"
  | "sign.afterGuard"
  | "sign.afterSign"
  | "broadcast.before"
  | "broadcast.after"
  | "commit.before"
  | "commit.afterApp"
  | "commit.afterEndHeight";

export type ConsensusDriverModules = {
  app: ConsensusApp;
  validators: ValidatorSource;
  network: ConsensusNetwork;
  fetcher: BlockFetcher;
  wal: Wal;
  /** Null for a node that follows without signing. */
  signer: Signer | null;
  guard: DoubleSignGuard | null;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  verify?: VerifyFn;
  /**
   * Optional: the duration of a timeout about to be scheduled (CometBFT lets the node tune
   * timeouts too). Only liveness depends on it. Return the given `ms` to keep it.
   */
  adjustTimeout?: (step: TimeoutStep, height: number, round: number, ms: number) => number;
  /** Test hook: throwing from it simulates a crash at that point. */
  crashHook?: (point: CrashPoint) => void;
};

type Commit = { block: Block; certificate: CommitCertificate; validators: ValidatorSet };

/** Thrown by a crash hook; the driver stops at once, as if the process died. */
export class SimulatedCrash extends Error {
  constructor(point: string) {
    super(`simulated crash at ${point}`);
    this.name = "SimulatedCrash";
  }
}

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
  private readonly m: ConsensusDriverModules;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: DriverMetrics;
  private readonly config: CoreConfig;
  private state: ConsensusState | undefined;
  private readonly internal: ConsensusInput[] = [];
  private network: ConsensusInput[] = [];
  private networkHead = 0;
  private readonly future: FutureBuffer;
  private readonly seen: SeenSet;
  private catchUpAttempt = 0;
  /**
   * The last catch-up fetch brought a verified commit: fetch the next height at once too. A node
   * several spans behind cannot verify the heights peers claim (their sets are not known yet),
   * so verified answers, not claims, keep it going; an empty answer stops it.
   */
  private catchUpMomentum = false;
  private readonly timers = new Set<() => void>();
  private readonly commits = new Map<number, Commit>();
  private ownMessages: ConsensusMessage[] = [];
  private running = false;
  private tasks = 0;
  private started = false;
  private dead: unknown = undefined;
  private idleWaiters: (() => void)[] = [];
  private abort = new AbortController();
  private heightStartedAt = 0;
  private catchingUp = false;
  /** Highest height some peer's message showed the network to be at: catch up while below. */
  private highestSeen = 0;
  private catchUpTimer: (() => void) | undefined;
  private readonly staleReplies = new Map<number, number>();
  private loopDone: Promise<void> = Promise.resolve();
  private readonly fetchAsked = new Map<string, number>();
  /** Messages signed while executing a step; they become inputs when the step is done. */
  private readonly signedPending: ConsensusInput[] = [];
  /** Driver steps that must run inside the loop (entering the next height after a delay). */
  private readonly actions: (() => Promise<void>)[] = [];

  constructor(opts: ConsensusDriverOptions, modules: ConsensusDriverModules) {
    this.opts = { ...defaultConsensusDriverOptions, ...opts };
    this.m = modules;
    this.clock = modules.clock ?? realClock;
    this.log = (modules.logger ?? createNoopLogger()).child({ module: "consensus" });
    this.events = new EventBus<ConsensusEvents>({ name: "consensus", logger: this.log });
    if ((modules.signer === null) !== (modules.guard === null)) {
      throw new DseqError(
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
    this.future = new FutureBuffer({
      maxBytes: this.opts.futureBufferBytes,
      maxCount: this.opts.futureBufferSize,
      perSenderCount: this.opts.futureBufferPerSender,
      perSenderBytes: this.opts.futureBufferPerSenderBytes,
    });
    this.seen = new SeenSet({ maxKeys: this.opts.seenMessages });
    this.metrics = createDriverMetrics(modules.metrics ?? createMetrics());
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
    if (this.started) throw new DseqError(ConsensusErrorCode.Started, "driver already started");
    this.started = true;
    const records = await this.m.wal.records();
    const started = step(await this.newHeightState(height), { type: "start" });
    let state = started.state;
    let replayed = 0;
    for (const rec of records) {
      const next = this.replayOne(state, rec, height);
      if (next === undefined) continue;
      state = next;
      replayed++;
    }
    if (replayed > 0) this.log.info("WAL replayed", { height, records: replayed, round: state.round });
    if (
      !records.some((r) => r.kind === "input" && r.height >= height) &&
      this.m.wal.size > this.opts.walMaxBytes
    ) {
      await this.m.wal.replace([]);
    }
    this.state = state;
    this.heightStartedAt = this.clock.now();
    this.metrics.height.set(height);
    this.scheduleRebroadcast();
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

  /**
   * One WAL record on start. A record that does not decode, or that the state machine throws
   * on, is skipped loudly: one bad record must not keep the node from starting.
   */
  private replayOne(state: ConsensusState, rec: WalEntry, height: number): ConsensusState | undefined {
    if (rec.kind === "undecodable") {
      this.metrics.walSkipped.inc({ reason: "undecodable" });
      this.log.error("WAL record does not decode: skipped", { offset: rec.offset, reason: rec.reason });
      return undefined;
    }
    if (rec.kind !== "input" || rec.height !== height) return undefined;
    let r: ReturnType<typeof step>;
    try {
      r = step(state, rec.input);
    } catch (err) {
      this.metrics.walSkipped.inc({ reason: "step" });
      this.log.error("WAL record failed on replay: skipped", {
        height,
        input: String((rec.input as { type?: unknown })?.type),
        err: errorMessage(err),
      });
      return undefined;
    }
    for (const e of r.effects) if (e.type === "evidence") this.evidence.add(e.evidence);
    if (isOwnInput(rec.input, this.config.self)) this.rememberOwn(rec.input);
    this.markSeen(rec.input, height);
    return r.state;
  }

  /** Stops timers and the loop; in-flight application calls are abandoned. */
  async stop(): Promise<void> {
    this.dead ??= new Error("stopped");
    this.abort.abort();
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    this.catchUpTimer?.();
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
   */
  judge(message: ConsensusMessage): Verdict {
    if (this.dead !== undefined || !this.state) return "ignore";
    if (!isMessageShape(message)) return this.verdict("reject", "malformed");
    const h = messageHeight(message);
    const cur = this.state.height;
    if (h < cur) {
      this.onStale(message);
      return this.verdict("ignore", "stale");
    }
    const key = messageKey(this.config.chainId, message);
    if (this.seen.has(key)) return this.verdict("ignore", "duplicate");
    if (h > cur) return this.judgeFuture(message, h, key);
    if (!this.precheck(message)) return this.verdict("reject", "precheck");
    if (messageRound(message) > Math.max(this.state.round, 0) + this.config.maxRoundsAhead)
      return this.verdict("ignore", "roundTooFar");
    // The core would refuse it after the WAL write: refuse it before.
    if (
      message.type === "proposal" &&
      this.state.validators.proposer(message.proposal.round) !== message.proposal.proposer
    )
      return this.verdict("reject", "wrongProposer");
    if (!this.seen.withinQuota(h, message)) return this.verdict("ignore", "quota");
    this.seen.add(key, h, message);
    this.pushNetwork(messageToInput(message));
    this.kick();
    return "accept";
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
        (this.actions.length === 0 && this.internal.length === 0 && this.networkHead >= this.network.length))
    );
  }

  private checkIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  private pushNetwork(input: ConsensusInput): void {
    if (this.network.length - this.networkHead >= this.opts.queueSize) {
      // Dropped unseen: a later copy (a rebroadcast) must be taken again.
      this.seen.forget(this.network[this.networkHead++]!, this.state!.height, this.config.chainId);
      this.metrics.dropped.inc();
    }
    if (this.networkHead > 1024 && this.networkHead * 2 > this.network.length) {
      this.network = this.network.slice(this.networkHead);
      this.networkHead = 0;
    }
    this.network.push(input);
    this.metrics.queue.set(this.network.length - this.networkHead);
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
        if (!input && this.networkHead < this.network.length) {
          input = this.network[this.networkHead++];
          own = false;
          this.metrics.queue.set(this.network.length - this.networkHead);
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
    if (own) this.markSeen(input, state.height);
    this.crash("input.beforeWal");
    // Own messages are fsynced before they can leave the process (the broadcast effect).
    await this.m.wal.append({ kind: "input", height: state.height, input }, own);
    this.crash("input.afterWal");
    const r = step(state, input);
    this.state = r.state;
    if (own) this.rememberOwn(input);
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
          this.m.network.broadcast(e.message);
          this.crash("broadcast.after");
          break;
        case "scheduleTimeout": {
          const { height, round, step: s } = e;
          // Timeouts only bound liveness, never safety: the node may shorten one (e.g. a
          // propose timeout when the round's proposer is not reachable at all).
          const ms = this.m.adjustTimeout?.(s, height, round, e.ms) ?? e.ms;
          const cancel = this.clock.setTimeout(() => {
            this.timers.delete(cancel);
            this.pushInternal({ type: "timeout", height, round, step: s });
          }, ms);
          this.timers.add(cancel);
          break;
        }
        case "requestValue":
          this.task(async () => {
            const block = await this.m.app.propose(e.height, e.round);
            // Written to the WAL like any input: a block of the wrong shape would not encode.
            if (!isBlockShape(block))
              throw new DseqError(ConsensusErrorCode.BadBlock, "proposed block is malformed");
            this.pushInternal({ type: "valueReady", height: e.height, round: e.round, block });
          }, "propose");
          break;
        case "validate":
          this.validate(e.height, e.block, 0);
          break;
        case "fetchBlock": {
          // Asked again for the same block: its last payload did not validate. Back off, so a
          // peer serving a bad payload cannot spin the node.
          const key = `${e.height}:${e.blockHash}`;
          const again = this.fetchAsked.get(key) ?? 0;
          this.fetchAsked.set(key, again + 1);
          if (this.fetchAsked.size > 256)
            this.fetchAsked.delete(this.fetchAsked.keys().next().value as string);
          if (again === 0) this.fetchBlock(e.height, e.blockHash, 0);
          else this.later(() => this.fetchBlock(e.height, e.blockHash, again), e.height, again - 1);
          break;
        }
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
          this.ownMessages = this.ownMessages.filter((msg) => messageRound(msg) >= e.round - 1);
          this.events.emit("consensus.newRound", { height: e.height, round: e.round });
          break;
      }
    }
  }

  private async sign(e: Extract<ConsensusEffect, { type: "signVote" | "signProposal" }>): Promise<void> {
    const signer = this.m.signer;
    const guard = this.m.guard;
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
    await this.m.app.commit(height, block, certificate);
    this.crash("commit.afterApp");
    await this.m.wal.append({ kind: "endHeight", height }, true);
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
    this.m.network.broadcast({ type: "certificate", certificate });
    // Own messages signed in the deciding step (a precommit) still go out, WAL first.
    for (const input of this.signedPending.splice(0)) await this.process(input, true);
    if (this.m.wal.size > this.opts.walMaxBytes) await this.m.wal.replace([{ kind: "endHeight", height }]);
    const delay = this.startDelay(height + 1);
    if (delay <= 0) {
      await this.enterHeight(height + 1);
      return;
    }
    // Wait, decided, for the next slot; messages of the next height are buffered meanwhile.
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    this.catchUpTimer?.();
    this.catchUpTimer = undefined;
    const cancel = this.clock.setTimeout(() => {
      this.timers.delete(cancel);
      if (this.dead !== undefined) return;
      this.actions.push(() => this.enterHeight(height + 1));
      this.kick();
    }, delay);
    this.timers.add(cancel);
  }

  /** The driver owns the wait before a height (ADR 0057); the app only names the time. */
  private startDelay(height: number): number {
    let at: number | undefined;
    try {
      at = this.m.app.startTime?.(height);
    } catch (err) {
      this.log.warn("startTime failed: starting the height at once", { height, err: errorMessage(err) });
      return 0;
    }
    const { ms, capped } = heightStartDelay(at, this.clock.now(), this.opts);
    if (capped) this.log.warn("startTime too far ahead: capped", { height, startTime: at, waitMs: ms });
    return ms;
  }

  private async enterHeight(height: number): Promise<void> {
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    this.catchUpTimer?.();
    this.catchUpTimer = undefined;
    this.internal.length = 0;
    this.network = this.network.slice(this.networkHead);
    this.networkHead = 0;
    this.ownMessages = [];
    this.catchUpAttempt = 0;
    this.seen.prune(height);
    const fresh = await this.newHeightState(height);
    const r = step(fresh, { type: "start" });
    this.state = r.state;
    this.heightStartedAt = this.clock.now();
    this.metrics.height.set(height);
    this.scheduleRebroadcast();
    for (const msg of this.future.take(height)) this.pushNetwork(messageToInput(msg));
    this.metrics.futureBytes.set(this.future.bytes);
    // Still behind what peers showed us: fetch the next decided block now, not at the next gossip.
    if (this.highestSeen >= height || this.catchUpMomentum) this.scheduleCatchUp(0);
    await this.execute(r.effects);
  }

  private async newHeightState(height: number): Promise<ConsensusState> {
    const validators = await this.m.validators.forHeight(height);
    return createHeightState(this.config, height, validators);
  }

  /**
   * A message of a later height. Only one verified against its height's validators moves
   * `highestSeen` (and so catch-up); only one of the next height is buffered, within the
   * byte and per-sender bounds. When that set is not known yet, nothing is believed: one
   * catch-up attempt is scheduled (its answer is verified) and the message is ignored.
   */
  private judgeFuture(message: ConsensusMessage, h: number, key: Hex): Verdict {
    const cur = this.state!.height;
    const set = this.setFor(h);
    if (!set) {
      this.scheduleCatchUp(this.opts.rebroadcastMs);
      return this.verdict("ignore", "noValidatorSet");
    }
    if (!this.verifyAgainst(message, set)) return this.verdict("reject", "precheck");
    // A certificate for h means h is decided; any other message of h means h - 1 is.
    const decided = message.type === "certificate" ? h : h - 1;
    if (decided > this.highestSeen) this.highestSeen = decided;
    this.scheduleCatchUp(h > cur + 1 ? 0 : this.opts.rebroadcastMs);
    if (h > cur + 1) return this.verdict("ignore", "tooFarAhead");
    if (!this.seen.withinQuota(h, message) || !this.future.add(message, h))
      return this.verdict("ignore", "bufferFull");
    this.seen.add(key, h, message);
    this.metrics.futureBytes.set(this.future.bytes);
    return "accept";
  }

  /** The validator set of `height` when the source knows it now (synchronously). */
  private setFor(height: number): ValidatorSet | undefined {
    if (height === this.state?.height) return this.state.validators.set;
    try {
      const hv = this.m.validators.forHeight(height);
      if (typeof (hv as Promise<unknown>).then === "function") {
        (hv as Promise<unknown>).catch(() => {});
        return undefined;
      }
      return (hv as { set: ValidatorSet }).set;
    } catch {
      return undefined;
    }
  }

  private verdict(v: Verdict, reason: string): Verdict {
    if (v === "reject") this.metrics.rejected.inc({ reason });
    else this.metrics.ignored.inc({ reason });
    return v;
  }

  private markSeen(input: ConsensusInput, height: number): void {
    if (input.type !== "vote" && input.type !== "proposal" && input.type !== "certificate") return;
    const msg = input as ConsensusMessage;
    if (!isMessageShape(msg)) return;
    this.seen.add(messageKey(this.config.chainId, msg), height, msg);
  }

  /** Someone is behind (answer with the commit), or equivocates at a decided height (evidence). */
  private onStale(message: ConsensusMessage): void {
    onStaleMessage(
      {
        commits: this.commits,
        chainId: this.config.chainId,
        verify: this.config.verify,
        log: this.log,
        now: this.clock.now(),
        replies: this.staleReplies,
        replyEveryMs: this.opts.rebroadcastMs,
        recordEvidence: (ev) => this.recordEvidence(ev),
        broadcast: (m) => this.m.network.broadcast(m),
      },
      message,
    );
  }

  /** Cheap checks before anything reaches the WAL: known signer, valid signature (cached). */
  private precheck(message: ConsensusMessage): boolean {
    return this.verifyAgainst(message, this.state!.validators.set);
  }

  private verifyAgainst(message: ConsensusMessage, set: ValidatorSet): boolean {
    return verifyMessage(message, set, this.config.chainId, this.config.verify);
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

  /** valid(v) from the application; a failed call (not a "no") is retried while the height lasts. */
  private validate(height: number, block: Block, attempt: number): void {
    this.task(async () => {
      let res: ValidateResult;
      try {
        res = await this.m.app.validate(height, block);
      } catch (err) {
        if (err instanceof SimulatedCrash) throw err;
        this.log.warn("block validation failed, retrying", {
          height,
          hash: block.hash,
          attempt,
          err: errorMessage(err),
        });
        this.later(() => this.validate(height, block, attempt + 1), height, attempt);
        return;
      }
      const round = res.valid && isUint32(res.round) ? res.round : undefined;
      this.pushInternal(
        res.valid
          ? {
              type: "validated",
              height,
              blockHash: block.hash,
              valid: true,
              ...(round === undefined ? {} : { round }),
            }
          : { type: "validated", height, blockHash: block.hash, valid: false, reason: String(res.reason) },
      );
    }, "validate");
  }

  private fetchBlock(height: number, blockHash: Hex, attempt: number): void {
    this.task(async () => {
      const block = await this.m.fetcher.fetchBlock(height, blockHash, this.abort.signal);
      if (this.state?.height !== height) return;
      if (block && block.hash === blockHash) {
        this.pushInternal({ type: "block", height, block });
        return;
      }
      this.later(() => this.fetchBlock(height, blockHash, attempt + 1), height, attempt);
    }, "fetchBlock");
  }

  /** Runs `fn` after an exponential backoff, if the node is still alive at `height`. */
  private later(fn: () => void, height: number, attempt: number): void {
    const cancel = this.clock.setTimeout(
      () => {
        this.timers.delete(cancel);
        if (this.state?.height === height && this.dead === undefined) fn();
      },
      Math.min(this.opts.rebroadcastMs * 2 ** Math.min(attempt, 4), 30_000),
    );
    this.timers.add(cancel);
  }

  private scheduleCatchUp(delay: number): void {
    if (this.catchingUp || this.catchUpTimer || this.dead !== undefined || this.state?.decision) return;
    const height = this.state!.height;
    const cancel = this.clock.setTimeout(() => {
      this.catchUpTimer = undefined;
      if (this.state?.height !== height || this.dead !== undefined) return;
      this.catchingUp = true;
      this.task(async () => {
        try {
          const got = await this.m.fetcher.fetchCommitted(height, this.abort.signal);
          if (!got) this.catchUpMomentum = false;
          if (!got || this.state?.height !== height) return;
          const { chainId, verify } = this.config;
          const problem = checkCommitted(got, height, this.state.validators.set, chainId, verify);
          if (problem !== undefined) {
            this.metrics.catchUpRejected.inc();
            this.log.warn("catch-up answer rejected", { height, reason: problem, source: got.source });
            if (got.source !== undefined) this.m.fetcher.penalize?.(got.source, problem);
            const attempt = this.catchUpAttempt++;
            this.later(() => this.scheduleCatchUp(0), height, attempt);
            return;
          }
          this.catchUpMomentum = true;
          // Verified: straight to the loop's own queue (it cannot be pushed out by gossip).
          const certificate = { type: "certificate", certificate: got.certificate } as const;
          this.seen.add(messageKey(chainId, certificate), height, certificate);
          this.pushInternal({ type: "certificate", certificate: got.certificate });
          this.pushInternal({ type: "block", height, block: got.block });
        } finally {
          this.catchingUp = false;
        }
      }, "catchUp");
    }, delay);
    this.catchUpTimer = cancel;
  }

  private scheduleRebroadcast(): void {
    const height = this.state!.height;
    const cancel = this.clock.setTimeout(() => {
      this.timers.delete(cancel);
      if (this.dead !== undefined || this.state?.height !== height) return;
      for (const msg of this.ownMessages) this.m.network.broadcast(msg);
      const prev = this.commits.get(height - 1);
      if (prev) this.m.network.broadcast({ type: "certificate", certificate: prev.certificate });
      this.scheduleRebroadcast();
    }, this.opts.rebroadcastMs);
    this.timers.add(cancel);
  }

  private rememberOwn(input: ConsensusInput): void {
    if (input.type === "vote") this.ownMessages.push({ type: "vote", vote: input.vote });
    else if (input.type === "proposal")
      this.ownMessages.push({ type: "proposal", proposal: input.proposal, block: input.block });
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
    this.m.crashHook?.(point);
  }

  private halt(err: unknown): void {
    if (this.dead !== undefined) return;
    this.dead = err;
    this.abort.abort();
    for (const cancel of this.timers) cancel();
    this.timers.clear();
    this.catchUpTimer?.();
    if (!(err instanceof SimulatedCrash)) {
      this.log.error("consensus halted", { err: errorMessage(err) });
      this.events.emit("consensus.halted", { reason: errorMessage(err) });
    }
    this.checkIdle();
  }
}

const isUint32 = (n: unknown): n is number =>
  typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0xfffffffe;

function isOwnInput(input: ConsensusInput, self: Hex | null): boolean {
  if (self === null) return false;
  if (input.type === "vote") return input.vote.validator === self;
  if (input.type === "proposal") return input.proposal.proposer === self;
  return false;
}

function inputHeight(input: ConsensusInput, current: number): number {
  switch (input.type) {
    case "start":
      return current;
    case "vote":
      return input.vote.height;
    case "proposal":
      return input.proposal.height;
    case "certificate":
      return input.certificate.height;
    default:
      return input.height;
  }
}

export type { WalRecord };
