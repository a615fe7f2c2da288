import { bytesToHex, type Clock, type Hex, type Logger } from "@dseq/common";
import type { BuildResult, BuildTxSource, Chain, L1Entry } from "@dseq/l2-exec";
import type { TxPool } from "@dseq/txpool";
import type { Block } from "@ethereumjs/block";
import type { TypedTransaction } from "@ethereumjs/tx";
import { encodeBlockExtra } from "./blockExtra.ts";
import type { BlockFragment } from "./blockStream.ts";
import { buildYield } from "./buildYield.ts";
import { outcomeHooks, type TxOutcomeSink } from "./preconf/outcomes.ts";

/** How often an open block looks in the pool for transactions that arrived meanwhile. */
const BUILD_POLL_MS = 10;
/** A streamed fragment goes out after this long, or at this many transactions, or at the seal. */
const FRAGMENT_MS = 20;
const FRAGMENT_TXS = 128;

export type OpenBuild = {
  height: number;
  parentHash: Hex;
  /**
   * Opened after its slot (the chain is behind the clock, ADR 0187): it seals itself once the
   * pool runs dry or its catch-up window ends, and the proposer waits for that instead of
   * sealing it at the slot.
   */
  catchingUp: boolean;
  /** Ask the source to stop: the block is sealed with what it executed so far. */
  seal(): void;
  /** The sealed block; undefined when the build failed (the proposer then builds at once). */
  result: Promise<BuildResult | undefined>;
};

export type OpenBlockOptions = {
  blockTimeMs: number;
  maxTxsPerBlock: number;
  continuousBuild: boolean;
  /** Further behind the clock than this, a block takes the clock's time: built at once. */
  maxCatchUpSeconds: number;
  /**
   * Longest a block opened after its slot streams (ADR 0187); default a quarter of the block
   * time, at most 500 ms.
   */
  catchUpStreamMs?: number;
};

export type OpenBlockModules = {
  chain: Chain;
  /**
   * Most transactions the block may take by its re-execution budget (ADR 0165), read when it
   * opens; `maxTxsPerBlock` when absent.
   */
  maxTxs?: () => number;
  /** The L1 entries the block includes (ADR 0120), read when it opens. */
  entries?: () => L1Entry[];
  pool: TxPool;
  proposerFor(height: number, round: number): Hex;
  rewardRecipientOf(height: number, validator: Hex): Hex;
  /** This node's validator address (undefined for a follower). */
  self: Hex | undefined;
  clock: Clock;
  logger: Logger;
  stream?: { publish(fragment: BlockFragment): void };
  /** Told each transaction's receipt as the open block includes it (preconfirmations, ADR 0175). */
  outcomes?: TxOutcomeSink;
};

export type OpenBlock = {
  /** Opens the block of `height` on `parent` when this node proposes its round 0 (ADR 0091). */
  open(parent: Block, height: number): void;
  /**
   * The open build, handed over to the proposer (which seals it, or waits for a catching-up
   * one to seal itself); undefined when none is open.
   */
  take(): OpenBuild | undefined;
  /** Seals and drops an open build of `height` or below (that height is decided). */
  closeStale(height: number): void;
};

/**
 * Continuous building: when this node proposes round 0 of the next height, it opens that block
 * on the new head right after the commit and runs pool transactions into it as they come,
 * each offered once in the pool's price-and-nonce order, until the slot. Sealing then costs
 * only the roots. What it offers goes out, in order, as stream fragments (ADR 0092).
 *
 * A chain behind the clock streams too (ADR 0187): a block opened after its slot keeps the
 * slot's timestamp and runs what the pool has until the pool runs dry or `catchUpStreamMs`
 * has passed, whichever is first. Validators follow its stream as they do on time, so a
 * backlog is executed once per validator while it streams instead of built at once and then
 * re-executed whole, and a chain that fell behind under load can catch up while the load lasts.
 */
export function createOpenBlock(opts: OpenBlockOptions, m: OpenBlockModules): OpenBlock {
  const slotSeconds = BigInt(opts.blockTimeMs / 1000);
  const catchUpMs = opts.catchUpStreamMs ?? Math.min(500, opts.blockTimeMs / 4);
  let current: OpenBuild | undefined;

  const open = (parent: Block, height: number): void => {
    if (!opts.continuousBuild || m.self === undefined) return;
    let proposer: Hex;
    try {
      proposer = m.proposerFor(height, 0);
    } catch {
      return;
    }
    if (proposer !== m.self) return;
    const slot = parent.header.timestamp + slotSeconds;
    const now = m.clock.now();
    const catchingUp = Number(slot) * 1000 <= now;
    // Far behind, the block takes the clock's time, not the slot's (consensusApp.propose).
    if (catchingUp && Math.floor(now / 1000) - Number(slot) > opts.maxCatchUpSeconds) return;
    const deadline = catchingUp ? now + catchUpMs : Number(slot) * 1000;
    const baseFee = parent.header.calcNextBaseFee();
    const maxTxs = Math.min(opts.maxTxsPerBlock, m.maxTxs?.() ?? opts.maxTxsPerBlock);
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
    const pause = buildYield();
    const source: BuildTxSource = {
      ...outcomeHooks(m.outcomes, height),
      async next(gasLeft) {
        await pause();
        for (;;) {
          // A catching-up block ends at its window even while transactions keep coming.
          const late = catchingUp && m.clock.now() >= deadline;
          if (sealed || late || gasLeft < 21_000n || offered >= maxTxs) {
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
          if (left <= 0 || catchingUp) {
            flush(true, seq > 0 || fragment.length > 0);
            return undefined;
          }
          await waitForMore(Math.min(left, BUILD_POLL_MS));
        }
      },
    };
    const result = m.chain
      .buildBlock({
        parent,
        txs: source,
        timestamp: slot,
        coinbase: m.rewardRecipientOf(height, m.self),
        extraData: encodeBlockExtra({ round: 0, proposer: m.self }),
        l1Entries: m.entries?.() ?? [],
      })
      .catch((err: unknown) => {
        m.logger.warn("continuous build failed; building at the slot instead", {
          height,
          err: (err as Error).message,
        });
        return undefined;
      });
    current = {
      height,
      parentHash,
      catchingUp,
      seal: () => {
        sealed = true;
        wake?.();
      },
      result,
    };
  };

  return {
    open,
    take() {
      const ready = current;
      current = undefined;
      return ready;
    },
    closeStale(height) {
      if (current && current.height <= height) {
        current.seal();
        current = undefined;
      }
    },
  };
}
