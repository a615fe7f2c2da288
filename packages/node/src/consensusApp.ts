import { bytesToHex, type Clock, DseqError, type Hex, type Logger } from "@dseq/common";
import type { BuildResult, BuildTxSource, Chain } from "@dseq/l2-exec";
import type { CommitCertificate, ConsensusApp, Block as ConsensusBlock } from "@dseq/pos-consensus";
import { encodeJson } from "@dseq/pos-consensus";
import type { RotationSchedule } from "@dseq/sequencer-rotation";
import type { TxPool } from "@dseq/txpool";
import type { Block } from "@ethereumjs/block";
import type { TypedTransaction } from "@ethereumjs/tx";
import { decodeBlockExtra, encodeBlockExtra } from "./blockExtra.ts";
import type { BlockFragment, SignedFragment } from "./blockStream.ts";
import { applyToSchedule } from "./rotation.ts";

export type CommittedInfo = {
  height: number;
  round: number;
  hash: Hex;
  txs: number;
  gasUsed: bigint;
  proposer: Hex;
  timestamp: number;
  block: Block;
};

export type ConsensusAppOptions = {
  blockTimeMs: number;
  /** Make blocks with no transactions (a steady cadence shows the chain is alive). */
  emptyBlocks: boolean;
  /** How far in the future a proposed block's timestamp may be, seconds. */
  maxFutureSeconds: number;
  /** Most transactions pulled from the pool for one block. */
  maxTxsPerBlock: number;
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
};

export const defaultConsensusAppOptions: ConsensusAppOptions = {
  blockTimeMs: 2000,
  emptyBlocks: true,
  maxFutureSeconds: 2,
  maxTxsPerBlock: 5_000,
  continuousBuild: true,
  maxCatchUpSeconds: 3600,
};

/** How long before its slot a height starts (see commit). */
const ENTER_BEFORE_SLOT_MS = 100;

/** How often an open block looks in the pool for transactions that arrived meanwhile. */
const BUILD_POLL_MS = 10;
/** A streamed fragment goes out after this long, or at this many transactions, or at the seal. */
const FRAGMENT_MS = 20;
const FRAGMENT_TXS = 128;

/**
 * An open build runs transactions in microtasks (state is in memory), which would hold the
 * event loop for as long as transactions keep coming: timers (the slot), consensus messages
 * and RPC would wait. Sources give the loop a turn every few milliseconds.
 */
const YIELD_EVERY_MS = 4;

function yielder(): () => Promise<void> {
  let last = performance.now();
  return async () => {
    if (performance.now() - last < YIELD_EVERY_MS) return;
    await new Promise((r) => setImmediate(r));
    last = performance.now();
  };
}

/** The consensus app plus the receiving end of block streaming. */
export type NodeConsensusApp = ConsensusApp & { onFragment(fragment: SignedFragment): void };

/**
 * A validator's build of the next proposer's streamed block: fragments are applied in `seq`
 * order; the proposal's transactions not streamed yet are added at the end (ADR 0092).
 */
type Speculation = {
  height: number;
  parentHash: Hex;
  proposer: Hex;
  nextSeq: number;
  early: Map<number, Uint8Array[]>;
  queue: TypedTransaction[];
  /** Hashes of the transactions handed to the build, in order: a prefix of the proposer's. */
  offered: Set<Hex>;
  /** No more transactions go into the build (the last fragment, the proposal, or given up). */
  ended: boolean;
  /** `seq` of the fragment marked last, once seen. */
  lastSeq: number | undefined;
  /** Given up (a bad fragment, a new height): never matches. */
  dropped: boolean;
  wake: (() => void) | undefined;
  result: Promise<BuildResult | undefined>;
};

type OpenBuild = {
  height: number;
  parentHash: Hex;
  /** Ask the source to stop: the block is sealed with what it executed so far. */
  seal(): void;
  /** The sealed block; undefined when the build failed (the proposer then builds at once). */
  result: Promise<BuildResult | undefined>;
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
};

export class AppError extends DseqError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("NODE_APP", message, { details });
    this.name = "AppError";
  }
}

/**
 * The consensus application: the proposer builds an Ethereum block from the pool on the
 * committed head (round 0: the block opened at the last commit, ADR 0091), every validator
 * checks a proposal by executing it before voting for it (or by its own build of the
 * proposer's stream, ADR 0092), and a decided
 * block is committed with its certificate, then the pool and the rotation schedule move on.
 * After a commit the node waits for the next slot (parent timestamp + block time) before the
 * next height starts: CometBFT's timeout_commit, which keeps blocks on the 2 s cadence and
 * lets every validator enter the height together.
 */
export function createConsensusApp(opts: ConsensusAppOptions, m: ConsensusAppModules): NodeConsensusApp {
  const slotSeconds = BigInt(opts.blockTimeMs / 1000);

  const rewardRecipientOf = (height: number, address: Hex): Hex => {
    const v = m.schedule.validatorSetAt(height).validators.find((x) => x.address === address);
    if (!v) throw new AppError("proposer is not in the validator set", { height, address });
    return v.rewardRecipient;
  };

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

  const pullTxs = (parent: Block): TypedTransaction[] => {
    const gasLimit = parent.header.gasLimit;
    const baseFee = parent.header.calcNextBaseFee();
    const it = m.pool.pending({ baseFee });
    const out: TypedTransaction[] = [];
    let gas = 0n;
    for (let p = it.peek(); p !== undefined && out.length < opts.maxTxsPerBlock; p = it.peek()) {
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

  let open: OpenBuild | undefined;

  const closeStale = (height: number): void => {
    if (open && open.height <= height) {
      open.seal();
      open = undefined;
    }
  };

  /**
   * Continuous building: when this node proposes round 0 of the next height, open that block
   * on the new head now and run pool transactions into it as they come, each offered once in
   * the pool's price-and-nonce order, until the slot. Sealing then costs only the roots.
   */
  const openNextBuild = (parent: Block, height: number): void => {
    if (!opts.continuousBuild || m.self === undefined) return;
    let proposer: Hex;
    try {
      proposer = m.schedule.proposerFor(height, 0);
    } catch {
      return;
    }
    const slot = parent.header.timestamp + slotSeconds;
    const deadline = Number(slot) * 1000;
    if (proposer !== m.self || deadline <= m.clock.now()) return; // not ours, or catching up
    const baseFee = parent.header.calcNextBaseFee();
    const seen = new Set<Hex>();
    const queue: TypedTransaction[] = [];
    let offered = 0;
    let sealed = false;
    let wake: (() => void) | undefined;
    const refill = (gasLeft: bigint): void => {
      const it = m.pool.pending({ baseFee });
      for (let p = it.peek(); p !== undefined && queue.length < 256; p = it.peek()) {
        if (seen.has(p.hash)) it.shift();
        else if (p.gasLimit > gasLeft)
          it.pop(); // this sender's next tx does not fit
        else {
          seen.add(p.hash);
          queue.push(p.tx);
          it.shift();
        }
      }
    };
    const waitForMore = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const cancel = m.clock.setTimeout(() => {
          wake = undefined;
          resolve();
        }, ms);
        wake = () => {
          cancel();
          wake = undefined;
          resolve();
        };
      });
    // Block streaming: what was offered, in order, goes to the validators in fragments.
    const parentHash = bytesToHex(parent.hash());
    let fragment: Uint8Array[] = [];
    let seq = 0;
    let flushedAt = m.clock.now();
    let streamEnded = false;
    const flush = (force: boolean, last = false): void => {
      if (!m.stream || streamEnded || (fragment.length === 0 && !last)) return;
      if (!force && fragment.length < FRAGMENT_TXS && m.clock.now() - flushedAt < FRAGMENT_MS) return;
      m.stream.publish({ height, parentHash, timestamp: slot, seq: seq++, last, txs: fragment });
      fragment = [];
      flushedAt = m.clock.now();
      if (last) streamEnded = true;
    };
    const pause = yielder();
    const source: BuildTxSource = {
      async next(gasLeft) {
        await pause();
        for (;;) {
          if (sealed || gasLeft < 21_000n || offered >= opts.maxTxsPerBlock) {
            flush(true, seq > 0 || fragment.length > 0);
            return undefined;
          }
          if (queue.length === 0) refill(gasLeft);
          const tx = queue.shift();
          if (tx !== undefined) {
            offered++;
            if (m.stream) fragment.push(tx.serialize());
            flush(false);
            return tx;
          }
          flush(false);
          const left = deadline - m.clock.now();
          if (left <= 0) {
            flush(true, seq > 0 || fragment.length > 0);
            return undefined;
          }
          await waitForMore(Math.min(left, BUILD_POLL_MS));
        }
      },
    };
    const self = m.self;
    const result = m.chain
      .buildBlock({
        parent,
        txs: source,
        timestamp: slot,
        coinbase: rewardRecipientOf(height, self),
        extraData: encodeBlockExtra({ round: 0, proposer: self }),
      })
      .catch((err: unknown) => {
        m.logger.warn("continuous build failed; building at the slot instead", {
          height,
          err: (err as Error).message,
        });
        return undefined;
      });
    open = {
      height,
      parentHash,
      seal: () => {
        sealed = true;
        wake?.();
      },
      result,
    };
  };

  let spec: Speculation | undefined;

  const endSpeculation = (): void => {
    if (!spec) return;
    spec.ended = true;
    spec.dropped = true;
    spec.wake?.();
    spec = undefined;
  };

  const startSpeculation = (parent: Block, f: SignedFragment, proposer: Hex): Speculation => {
    const s: Speculation = {
      height: f.height,
      parentHash: f.parentHash,
      proposer,
      nextSeq: 0,
      early: new Map(),
      queue: [],
      offered: new Set(),
      ended: false,
      lastSeq: undefined,
      dropped: false,
      wake: undefined,
      result: Promise.resolve(undefined),
    };
    const pause = yielder();
    const source: BuildTxSource = {
      async next() {
        await pause();
        for (;;) {
          const tx = s.queue.shift();
          if (tx !== undefined) return tx;
          if (s.ended) return undefined;
          await new Promise<void>((resolve) => {
            s.wake = () => {
              s.wake = undefined;
              resolve();
            };
          });
        }
      },
    };
    s.result = m.chain
      .buildBlock({
        parent,
        txs: source,
        timestamp: f.timestamp,
        coinbase: rewardRecipientOf(f.height, proposer),
        extraData: encodeBlockExtra({ round: 0, proposer }),
      })
      .catch((err: unknown) => {
        m.logger.debug("streamed build failed", { height: f.height, err: (err as Error).message });
        return undefined;
      });
    return s;
  };

  // Fragments for the height after next: their proposer committed before we did.
  let early: SignedFragment[] = [];

  /** Fragments of the round-0 proposer of the next height, applied in order (ADR 0092). */
  const onFragment = (f: SignedFragment): void => {
    if (!opts.continuousBuild || m.self === undefined) return;
    const head = m.chain.head();
    const next = Number(head.header.number) + 1;
    if (f.height === next + 1) {
      if (early.length < 256) early.push(f);
      return;
    }
    if (f.height !== next || f.parentHash !== bytesToHex(head.hash())) return;
    if (f.timestamp !== head.header.timestamp + slotSeconds) return;
    let proposer: Hex;
    try {
      proposer = m.schedule.proposerFor(f.height, 0);
    } catch {
      return;
    }
    if (f.signer !== proposer.toLowerCase() || proposer === m.self) return;
    if (!spec || spec.height !== f.height || spec.parentHash !== f.parentHash) {
      endSpeculation();
      spec = startSpeculation(head, f, proposer);
    }
    const s = spec;
    if (s.ended || f.seq < s.nextSeq || s.early.has(f.seq) || s.early.size >= 64) return;
    if (f.last) s.lastSeq = f.seq;
    s.early.set(f.seq, f.txs);
    for (let txs = s.early.get(s.nextSeq); txs !== undefined; txs = s.early.get(s.nextSeq)) {
      s.early.delete(s.nextSeq);
      s.nextSeq++;
      for (const raw of txs) {
        let tx: TypedTransaction;
        try {
          tx = m.chain.decodeTx(raw);
        } catch {
          // The proposer streamed something that is not a transaction: stop following it.
          endSpeculation();
          return;
        }
        const hash = bytesToHex(tx.hash());
        const key = m.pool.get(hash)?.tx.cache.senderPubKey;
        if (key !== undefined) tx.cache.senderPubKey = key;
        s.queue.push(tx);
        s.offered.add(hash);
      }
      if (s.offered.size > opts.maxTxsPerBlock) {
        endSpeculation();
        return;
      }
      if (s.lastSeq !== undefined && s.nextSeq > s.lastSeq) {
        // The proposer sealed: seal ours too, while its proposal is on the way.
        s.ended = true;
        break;
      }
    }
    s.wake?.();
  };

  /**
   * Finishes the validator's streamed build with the proposal's transactions it has not seen
   * and says whether the result is exactly the proposed block. The offered transactions are a
   * prefix of the proposer's, and whatever it skipped changed no state, so the proposal's
   * remaining transactions complete the same block.
   */
  const matchesStream = async (height: number, hash: Hex, block: Block, proposer: Hex): Promise<boolean> => {
    const s = spec;
    if (!s || s.dropped || s.height !== height || s.proposer !== proposer) return false;
    if (s.parentHash !== bytesToHex(block.header.parentHash)) return false;
    spec = undefined;
    const rest = block.transactions.filter((tx) => !s.offered.has(bytesToHex(tx.hash())));
    if (s.ended && rest.length > 0) {
      m.metrics.streamed?.("miss"); // sealed on the last fragment, yet the proposal has more
      return false;
    }
    s.queue.push(...rest);
    s.ended = true;
    s.wake?.();
    const built = await s.result;
    const hit = built !== undefined && bytesToHex(built.block.hash()) === hash;
    m.metrics.streamed?.(hit ? "hit" : "miss");
    return hit;
  };

  /**
   * The last fragment arrived before the proposal, so the validator's build of the stream is
   * sealed: a proposal with that block's hash is that block, built by this node on its head
   * with the round-0 proposer's header fields, and needs no decoding or execution.
   */
  const sealedStreamMatch = async (height: number, hash: Hex): Promise<{ valid: true } | undefined> => {
    const s = spec;
    if (!s || s.dropped || !s.ended || s.lastSeq === undefined || s.height !== height) return undefined;
    const t0 = performance.now();
    const built = await s.result;
    if (!built || bytesToHex(built.block.hash()) !== hash || spec !== s) return undefined;
    const block = built.block;
    if (bytesToHex(block.header.parentHash) !== bytesToHex(m.chain.head().hash())) return undefined;
    const nowSec = BigInt(Math.floor(m.clock.now() / 1000));
    if (block.header.timestamp > nowSec + BigInt(opts.maxFutureSeconds)) return undefined;
    if (!opts.emptyBlocks && block.transactions.length === 0 && m.pool.status().pending > 0) return undefined;
    spec = undefined;
    remember(hash, block);
    m.metrics.streamed?.("hit");
    checked("proposal matched its stream", height, block, t0);
    return { valid: true };
  };

  /** Time and log of a proposal's check (execution, or matching the stream). */
  const checked = (what: string, height: number, block: Block, t0: number): void => {
    const ms = performance.now() - t0;
    m.metrics.execute(ms / 1000);
    m.logger.debug(what, { height, txs: block.transactions.length, ms: Math.round(ms) });
  };

  const proposed = (height: number, round: number, built: BuildResult, ms: number): ConsensusBlock => {
    m.metrics.build(ms / 1000);
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
    });
    const hash = bytesToHex(block.hash());
    remember(hash, block);
    return { hash, payload: block.serialize() };
  };

  return {
    onFragment,

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
      const wait = Number(slot) * 1000 - m.clock.now();
      if (wait > 0) await m.clock.sleep(wait);
      const ready = open;
      open = undefined;
      if (ready) {
        ready.seal();
        if (ready.height === height && round === 0 && ready.parentHash === bytesToHex(parent.hash())) {
          const t0 = performance.now();
          const built = await ready.result;
          if (built) return proposed(height, round, built, performance.now() - t0);
        }
      }
      // Block time is parent + slot while the chain keeps up or catches up (OP Stack style), so
      // a height's time does not depend on when its proposer happened to run.
      const now = BigInt(Math.floor(m.clock.now() / 1000));
      const timestamp = now - slot > BigInt(opts.maxCatchUpSeconds) ? now : slot;
      const txs = pullTxs(parent);
      const t0 = performance.now();
      const built = await m.chain.buildBlock({
        parent,
        txs,
        timestamp,
        coinbase: rewardRecipientOf(height, m.self),
        extraData: encodeBlockExtra({ round, proposer: m.self }),
      });
      return proposed(height, round, built, performance.now() - t0);
    },

    async validate(height, cb: ConsensusBlock) {
      const early = await sealedStreamMatch(height, cb.hash);
      if (early) return early;
      let block: Block;
      try {
        block = m.chain.decodeBlock(cb.payload);
      } catch (err) {
        return { valid: false, reason: `undecodable block: ${(err as Error).message}` };
      }
      if (bytesToHex(block.hash()) !== cb.hash)
        return { valid: false, reason: "hash does not match the payload" };
      remember(cb.hash, block);
      const parent = m.chain.head();
      if (block.header.number !== BigInt(height)) return { valid: false, reason: "wrong block number" };
      if (bytesToHex(block.header.parentHash) !== bytesToHex(parent.hash())) {
        return { valid: false, reason: "parent is not the committed head" };
      }
      if (block.header.timestamp < parent.header.timestamp + slotSeconds) {
        return { valid: false, reason: "timestamp earlier than parent + block time" };
      }
      const nowSec = BigInt(Math.floor(m.clock.now() / 1000));
      if (block.header.timestamp > nowSec + BigInt(opts.maxFutureSeconds)) {
        return { valid: false, reason: "timestamp too far in the future" };
      }
      let extra: { round: number; proposer: Hex };
      try {
        extra = decodeBlockExtra(block.header.extraData);
      } catch (err) {
        return { valid: false, reason: (err as Error).message };
      }
      let expected: Hex;
      try {
        expected = m.schedule.proposerFor(height, extra.round);
      } catch (err) {
        return { valid: false, reason: `cannot check proposer: ${(err as Error).message}` };
      }
      if (expected !== extra.proposer)
        return { valid: false, reason: "builder is not the proposer of its round" };
      if (block.header.coinbase.toString() !== rewardRecipientOf(height, extra.proposer)) {
        return { valid: false, reason: "coinbase is not the proposer's reward recipient" };
      }
      if (!opts.emptyBlocks && block.transactions.length === 0 && m.pool.status().pending > 0) {
        return { valid: false, reason: "empty block while transactions are pending" };
      }
      const t0 = performance.now();
      reuseSenders(block);
      if (extra.round === 0 && (await matchesStream(height, cb.hash, block, extra.proposer))) {
        checked("proposal matched its stream", height, block, t0);
        return { valid: true };
      }
      const ex = await m.chain.executeBlock(block);
      checked("block re-executed", height, block, t0);
      if (!ex.valid) {
        const what = ex.invalidTx
          ? `invalid transaction ${JSON.stringify(ex.invalidTx, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`
          : ex.differences.map((d) => `${d.field}: expected ${d.expected}, got ${d.actual}`).join("; ");
        return { valid: false, reason: `re-execution differs: ${what}` };
      }
      return { valid: true };
    },

    async commit(height, cb: ConsensusBlock, certificate: CommitCertificate) {
      const block = decoded.get(cb.hash) ?? m.chain.decodeBlock(cb.payload);
      decoded.clear();
      const t0 = performance.now();
      await m.chain.commit(block, undefined, {
        commitCertificate: new TextEncoder().encode(encodeJson(certificate)),
        safe: true,
        finalized: true,
      });
      const commitMs = performance.now() - t0;
      m.metrics.commit(commitMs / 1000);
      const hash = bytesToHex(block.hash());
      applyToSchedule(
        m.schedule,
        block.header.number,
        hash,
        block.header.extraData,
        certificate.round,
        block.header.timestamp,
      );
      const { proposer } = decodeBlockExtra(block.header.extraData);
      m.onCommitted({
        height,
        round: certificate.round,
        hash,
        txs: block.transactions.length,
        gasUsed: block.header.gasUsed,
        proposer,
        timestamp: Number(block.header.timestamp),
        block,
      });
      // The block is visible now (RPC, subscriptions); let waiting requests see it before the
      // pool re-checks itself against the new state (tens of milliseconds at full blocks).
      await new Promise((r) => setImmediate(r));
      const t1 = performance.now();
      await m.pool.onNewHead({
        number: block.header.number,
        gasLimit: block.header.gasLimit,
        nextBaseFee: block.header.calcNextBaseFee(),
        includedTxHashes: block.transactions.map((t) => bytesToHex(t.hash())),
      });
      m.logger.debug("block stored", {
        height,
        commitMs: Math.round(commitMs),
        poolMs: Math.round(performance.now() - t1),
      });
      closeStale(height);
      if (spec && spec.height <= height) endSpeculation();
      openNextBuild(block, height + 1);
      const held = early;
      early = [];
      for (const f of held) if (f.height === height + 1) onFragment(f);
      // timeout_commit: start the next height at its slot, not before. Slightly before, in
      // fact: the driver's end-of-height WAL sync and the new height's setup take a few tens
      // of milliseconds, and the proposer then waits out the rest in propose(), so that its
      // block is sealed at the slot itself rather than that much after it.
      const nextSlotMs = (Number(block.header.timestamp) + opts.blockTimeMs / 1000) * 1000;
      const wait = nextSlotMs - ENTER_BEFORE_SLOT_MS - m.clock.now();
      if (wait > 0 && wait <= opts.blockTimeMs) await m.clock.sleep(wait);
    },
  };
}
