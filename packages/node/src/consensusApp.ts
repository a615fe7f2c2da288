import { bytesToHex, type Clock, type Hex, type Logger } from "@dseq/common";
import type { BuildResult, Chain } from "@dseq/l2-exec";
import type { CommitCertificate, ConsensusApp, Block as ConsensusBlock } from "@dseq/pos-consensus";
import type { RotationSchedule } from "@dseq/sequencer-rotation";
import type { TxPool } from "@dseq/txpool";
import type { Block } from "@ethereumjs/block";
import type { TypedTransaction } from "@ethereumjs/tx";
import { type BlockCostSample, createBlockBudget } from "./blockBudget.ts";
import { encodeBlockExtra } from "./blockExtra.ts";
import type { BlockFragment, SignedFragment } from "./blockStream.ts";
import { checkL1Entries, MAX_ENTRIES_PER_BLOCK } from "./checkL1Entries.ts";
import {
  checkProposal,
  decodeProposal,
  type ProposalScheduleView,
  payloadSizeError,
} from "./checkProposal.ts";
import { type CommittedInfo, commitBlock } from "./commitBlock.ts";
import { NodeError, NodeErrorCode } from "./errors.ts";
import { entriesToL1Entries } from "./l1Entries.ts";
import type { L1EntryQueue } from "./l1EntryQueue.ts";
import { createOpenBlock } from "./openBlock.ts";
import { type PreconfStore, preconfViolation, type TxOutcomeSink, txsOnPrefix } from "./preconf/index.ts";
import { createStreamFollower } from "./streamFollower.ts";

export type { CommittedInfo } from "./commitBlock.ts";

export type ConsensusAppOptions = {
  blockTimeMs: number;
  /**
   * Make blocks with no transactions (a steady cadence shows the chain is alive). A proposer
   * preference, never a validity rule (ADR 0100): validators do not look at their pools. The
   * proposer already leaves a block empty only when its pool has nothing it can include, so
   * off changes nothing yet; not starting a height until a transaction arrives would be pacing
   * (`startTime`), not built.
   */
  emptyBlocks: boolean;
  /** How far in the future a proposed block's timestamp may be, seconds. */
  maxFutureSeconds: number;
  /** Most transactions pulled from the pool for one block. */
  maxTxsPerBlock: number;
  /**
   * The propose timeout of round 0 and its growth per round, ms (config consensus.*): the
   * window in which the proposer's build and every validator's re-execution must fit.
   */
  timeoutProposeMs: number;
  timeoutDeltaMs: number;
  /**
   * Share of that window a block's estimated re-execution may take (ADR 0165). The proposer
   * stops adding transactions there; a preference, never a validity rule.
   */
  buildBudgetShare: number;
  /**
   * The next round-0 proposer starts its block right after the commit and executes pool
   * transactions as they arrive, sealing at the slot (ADR 0091). Off: build at the slot.
   */
  continuousBuild: boolean;
  /**
   * A chain behind the clock (a halt, a genesis in the past) by at most this much makes its
   * missed slots one after another, each block exactly one slot after its parent, until it
   * reaches the present; further behind, the next block jumps to the present.
   */
  maxCatchUpSeconds: number;
  /**
   * Longest a block opened after its slot (catching up) streams, ms (ADR 0187); default a
   * quarter of the block time, at most 500 ms.
   */
  catchUpStreamMs?: number;
  /**
   * Highest round a proposed block may name in its extraData (ADR 0101). Consensus never gets
   * near it (each round waits out growing timeouts); the schedule's cost grows with the round.
   */
  maxRound: number;
  /**
   * Largest proposal payload decoded, bytes (ADR 0101). The node gives l2-exec's builder the
   * same cap; the proposal gossip topic allows 4 MiB.
   */
  maxBlockBytes: number;
};

export const defaultConsensusAppOptions: ConsensusAppOptions = {
  blockTimeMs: 2000,
  emptyBlocks: true,
  maxFutureSeconds: 2,
  maxTxsPerBlock: 5_000,
  timeoutProposeMs: 1000,
  timeoutDeltaMs: 250,
  buildBudgetShare: 0.5,
  continuousBuild: true,
  maxCatchUpSeconds: 3600,
  maxRound: 1_000,
  maxBlockBytes: 2 * 1024 * 1024,
};

/** How long before its slot a height starts (see startTime). */
const ENTER_BEFORE_SLOT_MS = 100;
/**
 * A round above 0 may propose this long before its slot (ADR 0191), at most half of
 * `maxFutureSeconds`: a block stamped with its slot then stays within the future bound of
 * validators whose clocks are up to that much behind.
 */
const EARLY_ROUND_LEAD_MS = 1000;

/**
 * When the height after a block of time `parentTimestamp` starts (ms): CometBFT's
 * timeout_commit aligned to the slot. Slightly before the slot, in fact: the driver's
 * end-of-height WAL sync and the new height's setup take a few tens of milliseconds, and the
 * proposer waits out the rest in propose(), so its block is sealed at the slot itself.
 * Undefined (start at once) when the slot is more than a block time (plus `leadMs`, how early
 * a later round's block may have been made, ADR 0191) away: a clock behind the chain must not
 * stall it.
 */
export function nextHeightStartMs(
  parentTimestamp: bigint,
  blockTimeMs: number,
  nowMs: number,
  leadMs = 0,
): number | undefined {
  const at = Number(parentTimestamp) * 1000 + blockTimeMs - ENTER_BEFORE_SLOT_MS;
  return at - nowMs <= blockTimeMs + leadMs ? at : undefined;
}

/** The consensus app plus the receiving end of block streaming. */
export type NodeConsensusApp = ConsensusApp & {
  onFragment(fragment: SignedFragment): void;
  startTime(height: number): number | undefined;
};

export type ConsensusAppModules = {
  chain: Chain;
  pool: TxPool;
  schedule: RotationSchedule;
  /** This node's validator address (undefined for a follower, which never proposes). */
  self: Hex | undefined;
  clock: Clock;
  logger: Logger;
  onCommitted(info: CommittedInfo): void;
  metrics: {
    build(s: number): void;
    execute(s: number): void;
    commit(s: number): void;
    /** A proposal checked against the validator's own streamed build (ADR 0092). */
    streamed?(result: "hit" | "miss"): void;
  };
  /** Block streaming: where this node's fragments go. Undefined: no streaming. */
  stream?: { publish(fragment: BlockFragment): void };
  /**
   * L1 entries (ADR 0120): this node's confirmed view, the index after the head's last entry, and
   * how long a validator waits for its L1 to confirm a proposal's entries. Undefined: no L1.
   */
  l1?: { queue: L1EntryQueue; nextEntry: bigint; verifyWaitMs: number };
  /**
   * Preconfirmations (ADR 0170): the fragments this node saw (the node adds them). Read to refuse
   * a proposal that breaks its proposer's promise (ADR 0172) and to build a later round on the
   * longest preconfirmed prefix (ADR 0173). Undefined: neither.
   */
  preconf?: PreconfStore;
  /** Receipts of the streamed builds, as they run (preconfirmations, ADR 0175). */
  outcomes?: TxOutcomeSink;
  /**
   * Whether this node holds a connection to a validator (p2p). A height whose round-0 proposer
   * is unreachable starts at once (ADR 0191). Undefined: every proposer counts as reachable.
   */
  reachable?(validator: Hex): boolean;
};

export class AppError extends NodeError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(NodeErrorCode.App, message, { details });
    this.name = "AppError";
  }
}

/**
 * The consensus application. The proposer builds an Ethereum block from the pool on the
 * committed head (round 0: the block opened at the last commit, `openBlock.ts`, ADR 0091).
 * Every validator checks a proposal (`checkProposal.ts`: a function of the block and the
 * chain) and executes it before voting for it, unless it is byte for byte its own build of the
 * proposer's stream (`streamFollower.ts`, ADR 0092). A decided block is committed with its
 * certificate (`commitBlock.ts`). `startTime` tells the driver when the next height starts.
 */
export function createConsensusApp(opts: ConsensusAppOptions, m: ConsensusAppModules): NodeConsensusApp {
  const slotSeconds = BigInt(opts.blockTimeMs / 1000);
  /** How early a round above 0 may propose (ADR 0191). */
  const earlyRoundLead = Math.min(EARLY_ROUND_LEAD_MS, (opts.maxFutureSeconds * 1000) / 2);
  // Index after the committed head's last L1 entry.
  let nextEntry = m.l1?.nextEntry ?? 0n;
  /** The confirmed entries the proposer of the next block includes. */
  const entriesToInclude = () =>
    m.l1 ? entriesToL1Entries(m.l1.queue.from(nextEntry, MAX_ENTRIES_PER_BLOCK)) : [];
  const entriesView = () => {
    const q = m.l1?.queue;
    return q ? { next: nextEntry, confirmed: (i: bigint) => q.at(i) } : { next: nextEntry };
  };
  /** Entries of a proposal against this node's L1 view; waits (bounded) for entries it has not confirmed yet. */
  const checkEntries = async (block: Block): Promise<string | undefined> => {
    let c = checkL1Entries(block.withdrawals, entriesView());
    if (!c.ok && c.verdict === "unverifiable" && m.l1 && c.index !== undefined) {
      const last = block.withdrawals?.[block.withdrawals.length - 1]?.index ?? c.index;
      await m.l1.queue.waitFor(last, m.l1.verifyWaitMs);
      c = checkL1Entries(block.withdrawals, entriesView());
    }
    return c.ok ? undefined : c.reason;
  };

  const rewardRecipientOf = (height: number, address: Hex): Hex => {
    const v = m.schedule.validatorSetAt(height).validators.find((x) => x.address === address);
    if (!v) throw new AppError("proposer is not in the validator set", { height, address });
    return v.rewardRecipient;
  };
  const proposerFor = (height: number, round: number): Hex => m.schedule.proposerFor(height, round);
  const scheduleView: ProposalScheduleView = {
    proposerFor,
    rewardRecipient: (height, validator) => {
      try {
        return m.schedule.validatorSetAt(height).validators.find((x) => x.address === validator)
          ?.rewardRecipient;
      } catch {
        return undefined; // a height the schedule does not know: no recipient to match
      }
    },
  };

  const budget = createBlockBudget({ ...opts, budgetShare: opts.buildBudgetShare });
  const costOf = (txs: number, t: BuildResult["timings"], streamed: boolean): BlockCostSample => ({
    txs,
    executeMs: streamed ? undefined : t.recoverMs + t.executeMs,
    sealMs: t.stateRootMs + t.triesMs,
  });

  const openBlock = createOpenBlock(opts, {
    maxTxs: () => budget.maxTxs("streamed", 0),
    entries: entriesToInclude,
    chain: m.chain,
    pool: m.pool,
    proposerFor,
    rewardRecipientOf,
    self: m.self,
    clock: m.clock,
    logger: m.logger,
    ...(m.stream ? { stream: m.stream } : {}),
    ...(m.outcomes ? { outcomes: m.outcomes } : {}),
  });
  const follower = createStreamFollower(opts, {
    chain: m.chain,
    pool: m.pool,
    proposerFor,
    rewardRecipientOf,
    self: m.self,
    logger: m.logger,
    ...(m.metrics.streamed ? { streamed: m.metrics.streamed } : {}),
    ...(m.outcomes ? { outcomes: m.outcomes } : {}),
  });

  // Blocks decoded while proposing or validating, by hash, so that commit does not decode the
  // same payload again (hundreds of transactions cost tens of milliseconds on the commit path).
  const decoded = new Map<Hex, Block>();
  const remember = (hash: Hex, block: Block): void => {
    decoded.set(hash, block);
    while (decoded.size > 8) decoded.delete(decoded.keys().next().value as Hex);
  };

  /**
   * A proposal's transactions are mostly in our pool already, whose admission recovered their
   * senders. The hash commits to the signature, so the same hash means the same sender: take
   * the recovered public key instead of recovering it again on the voting path.
   */
  const reuseSenders = (block: Block): void => {
    for (const tx of block.transactions) {
      const pooled = m.pool.get(bytesToHex(tx.hash()))?.tx;
      const key = pooled?.cache.senderPubKey;
      if (key !== undefined && tx.cache.senderPubKey === undefined) tx.cache.senderPubKey = key;
    }
  };

  const pullTxs = (parent: Block, max: number): TypedTransaction[] => {
    const gasLimit = parent.header.gasLimit;
    const baseFee = parent.header.calcNextBaseFee();
    const it = m.pool.pending({ baseFee });
    const out: TypedTransaction[] = [];
    let gas = 0n;
    for (let p = it.peek(); p !== undefined && out.length < max; p = it.peek()) {
      if (gas + p.gasLimit > gasLimit) {
        it.pop(); // this sender's next tx does not fit; others may
        continue;
      }
      out.push(p.tx);
      gas += p.gasLimit;
      it.shift();
    }
    return out;
  };

  /** Time and log of a proposal's check (execution, or matching the stream). */
  const checked = (what: string, height: number, block: Block, t0: number): void => {
    const ms = performance.now() - t0;
    m.metrics.execute(ms / 1000);
    m.logger.debug(what, { height, txs: block.transactions.length, ms: Math.round(ms) });
  };

  const proposed = (
    height: number,
    round: number,
    built: BuildResult,
    ms: number,
    streamed: boolean,
  ): ConsensusBlock => {
    m.metrics.build(ms / 1000);
    budget.observe(costOf(built.block.transactions.length, built.timings, streamed));
    if (built.skipped.length > 0) {
      m.logger.debug("transactions skipped while building", {
        height,
        skipped: built.skipped.slice(0, 10).map((s) => ({ hash: s.hash, reason: s.reason })),
      });
    }
    const block = built.block;
    m.logger.debug("block proposed", {
      height,
      round,
      txs: block.transactions.length,
      sealMs: Math.round(ms),
      ms: built.timings,
      estimateMsPerTx: budget.estimate(),
    });
    const hash = bytesToHex(block.hash());
    remember(hash, block);
    return { hash, payload: block.serialize() };
  };

  return {
    onFragment: follower.onFragment,

    startTime(height) {
      const head = m.chain.head();
      if (head.header.number !== BigInt(height - 1)) return undefined;
      // Nobody will hear from an unreachable round-0 proposer (killed, partitioned): start now,
      // so its round times out early and round 1 proposes before the slot (ADR 0191).
      if (m.reachable && m.self !== undefined) {
        let proposer: Hex | undefined;
        try {
          proposer = m.schedule.proposerFor(height, 0);
        } catch {
          proposer = undefined;
        }
        if (proposer !== undefined && proposer !== m.self && !m.reachable(proposer)) {
          return m.clock.now();
        }
      }
      return nextHeightStartMs(head.header.timestamp, opts.blockTimeMs, m.clock.now(), earlyRoundLead);
    },

    async propose(height, round) {
      if (m.self === undefined) throw new AppError("a follower does not propose");
      const parent = m.chain.head();
      if (parent.header.number !== BigInt(height - 1)) {
        throw new AppError("asked to propose on a height that is not the next one", {
          height,
          head: Number(parent.header.number),
        });
      }
      const slot = parent.header.timestamp + slotSeconds;
      // Round 0 proposes at its slot; a later round (its proposer failed) up to a lead before it.
      const lead = round === 0 ? 0 : earlyRoundLead;
      const wait = Number(slot) * 1000 - lead - m.clock.now();
      m.logger.debug("propose", { height, round, waitMs: Math.round(wait) });
      if (wait > 0) await m.clock.sleep(wait);
      const ready = openBlock.take();
      if (ready && ready.height === height && round === 0 && ready.parentHash === bytesToHex(parent.hash())) {
        // On time it is sealed at the slot; catching up it seals itself (ADR 0187).
        if (!ready.catchingUp) ready.seal();
        const t0 = performance.now();
        const built = await ready.result;
        if (built) return proposed(height, round, built, performance.now() - t0, true);
      } else ready?.seal();
      // Block time is parent + slot while the chain keeps up or catches up (OP Stack style), so
      // a height's time does not depend on when its proposer happened to run.
      const now = BigInt(Math.floor(m.clock.now() / 1000));
      const timestamp = now - slot > BigInt(opts.maxCatchUpSeconds) ? now : slot;
      const prefix = round > 0 ? m.preconf?.longestPrefix(height) : undefined;
      const onPrefix = prefix !== undefined && prefix.parentHash === bytesToHex(parent.hash());
      // Built at once, so every validator re-executes it whole within this round's timeout.
      const max = budget.maxTxs("full", round);
      // A preconfirmed prefix is kept whole (its transactions were promised, ADR 0173).
      const txs = onPrefix
        ? txsOnPrefix(
            prefix.txs,
            pullTxs(parent, max),
            (raw) => m.chain.decodeTx(raw),
            Math.min(opts.maxTxsPerBlock, Math.max(max, prefix.txs.length)),
          )
        : pullTxs(parent, max);
      if (onPrefix)
        m.logger.info("building on the preconfirmed prefix", { height, round, txs: prefix.txs.length });
      const t0 = performance.now();
      const built = await m.chain.buildBlock({
        parent,
        txs,
        timestamp,
        coinbase: rewardRecipientOf(height, m.self),
        extraData: encodeBlockExtra({ round, proposer: m.self }),
        l1Entries: entriesToInclude(),
      });
      return proposed(height, round, built, performance.now() - t0, false);
    },

    async validate(height, cb: ConsensusBlock) {
      const tooBig = payloadSizeError(cb.payload, opts);
      if (tooBig !== undefined) return { valid: false, reason: tooBig };
      const t0 = performance.now();
      const streamed = await follower.sealedMatch(height, cb);
      let block: Block;
      if (streamed) block = streamed;
      else {
        const d = decodeProposal((p) => m.chain.decodeBlock(p), cb, opts);
        if (!d.ok) return { valid: false, reason: d.reason };
        block = d.block;
      }
      const head = m.chain.head();
      const check = checkProposal(
        {
          height,
          block,
          parent: {
            hash: bytesToHex(head.hash()),
            number: head.header.number,
            timestamp: head.header.timestamp,
            gasLimit: head.header.gasLimit,
          },
          nowMs: m.clock.now(),
        },
        scheduleView,
        opts,
      );
      if (!check.ok) return { valid: false, reason: check.reason };
      const badEntries = await checkEntries(block);
      if (badEntries !== undefined) return { valid: false, reason: badEntries };
      remember(cb.hash, block);
      if (streamed) {
        checked("proposal matched its stream", height, block, t0);
        return { valid: true, round: check.round };
      }
      reuseSenders(block);
      if (check.round === 0 && (await follower.match(height, cb, block, check.proposer))) {
        checked("proposal matched its stream", height, block, t0);
        return { valid: true, round: check.round };
      }
      const promised = m.preconf?.prefix(height, 0);
      if (
        promised &&
        promised.signer === check.proposer.toLowerCase() &&
        promised.parentHash === bytesToHex(head.hash())
      ) {
        const hashes = block.transactions.map((tx) => bytesToHex(tx.hash()));
        const broken = preconfViolation(promised.txHashes, hashes, follower.skippedOf(height) ?? "unknown");
        if (broken !== undefined) return { valid: false, reason: `breaks its preconfirmations: ${broken}` };
      }
      const ex = await m.chain.executeBlock(block);
      checked("block re-executed", height, block, t0);
      if (!ex.valid) {
        const what = ex.invalidTx
          ? `invalid transaction ${JSON.stringify(ex.invalidTx, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`
          : ex.differences.map((d) => `${d.field}: expected ${d.expected}, got ${d.actual}`).join("; ");
        return { valid: false, reason: `re-execution differs: ${what}` };
      }
      // A block this node re-executed whole: what a full block costs a validator here.
      budget.observe(costOf(block.transactions.length, ex.timings, false));
      return { valid: true, round: check.round };
    },

    async commit(height, cb: ConsensusBlock, certificate: CommitCertificate) {
      const block = decoded.get(cb.hash) ?? m.chain.decodeBlock(cb.payload);
      decoded.clear();
      await commitBlock(
        {
          chain: m.chain,
          pool: m.pool,
          schedule: m.schedule,
          logger: m.logger,
          onCommitted: (info) => {
            const last = info.entries[info.entries.length - 1];
            if (last) nextEntry = last.index + 1n;
            m.l1?.queue.committed(nextEntry);
            m.onCommitted(info);
          },
          metrics: m.metrics,
        },
        { height, block, certificate },
      );
      openBlock.closeStale(height);
      follower.committed(height);
      m.preconf?.prune(height);
      openBlock.open(block, height + 1);
    },
  };
}
