import { errorMessage, type Hex, type Logger } from "@dseq/common";
import { isBlockShape } from "./codec.ts";
import type { BlockFetcher, ConsensusApp, ValidateResult } from "./consensusApp.ts";
import type { ConsensusInput, ConsensusState } from "./consensusCore.ts";
import { ConsensusError, ConsensusErrorCode } from "./errors.ts";
import type { Block } from "./types.ts";

/** What the application and fetcher calls read: each answer comes back as an internal input. */
export type AppCallContext = {
  readonly app: ConsensusApp;
  readonly fetcher: BlockFetcher;
  readonly log: Logger;
  readonly signal: AbortSignal;
  state(): ConsensusState | undefined;
  /** Runs a call beside the loop; a throw other than a simulated crash is logged. */
  task(fn: () => Promise<void>, what: string): void;
  /** Runs `fn` after a backoff if still at `height`. */
  later(fn: () => void, height: number, attempt: number): void;
  pushInternal(input: ConsensusInput): void;
  /** Whether `err` is a test's simulated crash (never retried). */
  isCrash(err: unknown): boolean;
};

/** getValue() of the paper: the application proposes a block for (height, round). */
export function proposeValue(ctx: AppCallContext, height: number, round: number): void {
  ctx.task(async () => {
    const block = await ctx.app.propose(height, round);
    // Written to the WAL like any input: a block of the wrong shape would not encode.
    if (!isBlockShape(block))
      throw new ConsensusError(ConsensusErrorCode.BadBlock, "proposed block is malformed");
    ctx.pushInternal({ type: "valueReady", height, round, block });
  }, "propose");
}

/** valid(v) from the application; a failed call (not a "no") is retried while the height lasts. */
export function validateBlock(ctx: AppCallContext, height: number, block: Block, attempt: number): void {
  ctx.task(async () => {
    let res: ValidateResult;
    try {
      res = await ctx.app.validate(height, block);
    } catch (err) {
      if (ctx.isCrash(err)) throw err;
      ctx.log.warn("block validation failed, retrying", {
        height,
        hash: block.hash,
        attempt,
        err: errorMessage(err),
      });
      ctx.later(() => validateBlock(ctx, height, block, attempt + 1), height, attempt);
      return;
    }
    const round = res.valid && isUint32(res.round) ? res.round : undefined;
    ctx.pushInternal(
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

/**
 * The core asks for a block it knows only by hash. Asked again for the same block: its last
 * payload did not validate. Back off, so a peer serving a bad payload cannot spin the node.
 * `asked` counts requests per (height, hash), bounded here.
 */
export function requestBlock(
  ctx: AppCallContext,
  asked: Map<string, number>,
  height: number,
  blockHash: Hex,
): void {
  const key = `${height}:${blockHash}`;
  const again = asked.get(key) ?? 0;
  asked.set(key, again + 1);
  if (asked.size > 256) asked.delete(asked.keys().next().value as string);
  if (again === 0) fetchBlock(ctx, height, blockHash, 0);
  else ctx.later(() => fetchBlock(ctx, height, blockHash, again), height, again - 1);
}

function fetchBlock(ctx: AppCallContext, height: number, blockHash: Hex, attempt: number): void {
  ctx.task(async () => {
    const block = await ctx.fetcher.fetchBlock(height, blockHash, ctx.signal);
    if (ctx.state()?.height !== height) return;
    if (block && block.hash === blockHash) {
      ctx.pushInternal({ type: "block", height, block });
      return;
    }
    ctx.later(() => fetchBlock(ctx, height, blockHash, attempt + 1), height, attempt);
  }, "fetchBlock");
}

const isUint32 = (n: unknown): n is number =>
  typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0xfffffffe;
