/**
 * The proposer's block budget by execution time (ADR 0165). Every validator re-executes a
 * proposal before its propose timeout fires (or finishes its streamed build of it and seals),
 * so a block whose re-execution takes longer than that window fails its round, and the next
 * proposer's block is just as large: throughput collapses. The proposer therefore stops adding
 * transactions when the block's estimated re-execution cost reaches a budget derived from the
 * propose timeout. A proposer-side choice only: validators judge a block by re-executing it,
 * never by this budget (their clocks and loads differ, so it cannot be a validity rule).
 */

/** Share of the validators' window (propose timeout minus the early start) the block may cost. */
export const DEFAULT_BUDGET_SHARE = 0.5;
/**
 * The estimate is the median of the last `WINDOW` samples, the prior counted as the first of
 * them until it ages out: one outlier (a cold first block, a GC pause, a block built while the
 * machine stalled) never sets the cap, while a lasting change shows after three blocks. An
 * average did not do that: a first block's cold 2.8 ms/tx of roots (25x the steady cost) capped
 * the next blocks at 160 transfers and, falling a tenth per block, let the pool grow under
 * 300 tx/s (ADR 0165).
 */
const WINDOW = 5;
/** Blocks with fewer transactions say more about fixed costs than about per-transaction ones. */
const MIN_SAMPLE_TXS = 32;
/** A per-transaction cost below this is a measuring artefact (a clock step), not a fast machine. */
const MIN_MS_PER_TX = 0.01;
/** The count cap never goes below this: a bad sample must not starve the chain. */
export const MIN_BUDGET_TXS = 64;
/**
 * Priors before the first sample, ms per transfer, from the profile of ADR 0164 on a 2-core
 * machine shared by 4 validators (execution with senders known; tx/receipt tries and the state
 * root). Replaced within a few blocks by what this node measures.
 */
const PRIOR_EXEC_MS_PER_TX = 0.35;
const PRIOR_SEAL_MS_PER_TX = 0.3;
/** The window's early start: heights start this long before their slot (consensusApp). */
const EARLY_START_MS = 100;

export type BlockBudgetOptions = {
  blockTimeMs: number;
  /** The consensus propose timeout of round 0 and its growth per round (config consensus.*). */
  timeoutProposeMs: number;
  timeoutDeltaMs: number;
  /** Share of the validators' window the block's re-execution may take (0 < share <= 1). */
  budgetShare: number;
  maxTxsPerBlock: number;
};

/**
 * One block's measured cost: its transactions, their execution (sender recovery included) and
 * its roots, wall-clock ms (what the timeouts see). A streamed build's execution is spread over
 * its slot, waiting for transactions, so it reports only its roots (`executeMs` undefined).
 */
export type BlockCostSample = { txs: number; executeMs: number | undefined; sealMs: number };

/**
 * How validators pay for a block. `full`: they re-execute it after the proposal arrives (a
 * round above 0, a block built at once while catching up, a follower that missed the stream).
 * `streamed`: they executed its fragments while the proposer built it (ADR 0092) and pay only
 * the roots after the proposal.
 */
export type BlockCostKind = "full" | "streamed";

export type BlockBudget = {
  /** What the block may cost, ms of a validator's execution plus roots. */
  budgetMs(kind: BlockCostKind, round: number): number;
  /** Most transactions the block may take by the current cost estimate. */
  maxTxs(kind: BlockCostKind, round: number): number;
  /** A block this node built or re-executed. */
  observe(sample: BlockCostSample): void;
  /** The current estimates, ms per transaction. */
  estimate(): { executeMsPerTx: number; sealMsPerTx: number };
};

/**
 * The validators' window after a proposal: their propose timeout of the round starts
 * `EARLY_START_MS` before the slot; the proposal leaves at the slot plus its seal and must be
 * checked before the timeout. The share leaves room for the proposer's own seal, the gossip and
 * validators slower than the proposer.
 */
export function windowBudgetMs(o: BlockBudgetOptions, round: number): number {
  const window = o.timeoutProposeMs + round * o.timeoutDeltaMs - EARLY_START_MS;
  return Math.max(1, window * o.budgetShare);
}

/**
 * A streamed block's execution is spread over the slot on every validator at once, so its
 * total may take the same share of the block time (the next block must still start on time),
 * while its roots, paid after the proposal, stay within the window.
 */
export function slotBudgetMs(o: BlockBudgetOptions): number {
  return Math.max(1, o.blockTimeMs * o.budgetShare);
}

/** Median of a small list; the lower middle for an even count. */
function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

/** The last `WINDOW` per-transaction costs, seeded with the prior. */
function costWindow(prior: number): { push(x: number): void; value(): number } {
  const xs = [prior];
  return {
    push(x) {
      xs.push(x);
      if (xs.length > WINDOW) xs.shift();
    },
    value: () => median(xs),
  };
}

export function createBlockBudget(o: BlockBudgetOptions): BlockBudget {
  const exec = costWindow(PRIOR_EXEC_MS_PER_TX);
  const seal = costWindow(PRIOR_SEAL_MS_PER_TX);
  const budgetMs = (kind: BlockCostKind, round: number) =>
    kind === "full" ? windowBudgetMs(o, round) : slotBudgetMs(o);
  return {
    budgetMs,
    maxTxs(kind, round) {
      const sealMs = Math.max(MIN_MS_PER_TX, seal.value());
      let n = budgetMs(kind, round) / (Math.max(0, exec.value()) + sealMs);
      if (kind === "streamed") n = Math.min(n, windowBudgetMs(o, round) / sealMs);
      return Math.min(o.maxTxsPerBlock, Math.max(MIN_BUDGET_TXS, Math.floor(n)));
    },
    observe(s) {
      if (s.txs < MIN_SAMPLE_TXS) return;
      if (Number.isFinite(s.sealMs) && s.sealMs >= 0) seal.push(s.sealMs / s.txs);
      const ex = s.executeMs;
      if (ex !== undefined && Number.isFinite(ex) && ex >= 0) exec.push(ex / s.txs);
    },
    estimate: () => ({ executeMsPerTx: exec.value(), sealMsPerTx: seal.value() }),
  };
}
