import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { bytesToHex, type Hex, type Logger } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import { DeriveError, DeriveErrorCode } from "./errors.ts";

/**
 * The verifier's chain store lives in `<dataDir>/chain`. l2-exec never removes a committed block
 * (BFT chains do not roll back), so a rewind (ADR 0184) copies blocks 1..N into a fresh store and
 * swaps it in by renames, each step leaving a state `recoverChainDirs` finishes:
 *
 *   chain.rewind   being filled (incomplete: removed on recovery)
 *   chain.new      complete copy, fsynced (swapped in on recovery)
 *   chain.old      the store being replaced (removed on recovery)
 */
const dirs = (dataDir: string) => ({
  chain: join(dataDir, "chain"),
  filling: join(dataDir, "chain.rewind"),
  complete: join(dataDir, "chain.new"),
  replaced: join(dataDir, "chain.old"),
});

/** Named crash points of a rewind, for the kill -9 test (`DSEQ_DERIVE_CRASH_AT`). */
export const RewindCrashPoint = {
  /** The listener forgot the batch's event; the rewind intent not yet written. */
  BeforeIntent: "rewind.before-intent",
  /** Half the blocks copied into chain.rewind. */
  MidCopy: "rewind.mid-copy",
  /** chain.new complete, the old store still in place. */
  Copied: "rewind.copied",
  /** The old store moved to chain.old, chain.new not yet in place. */
  MidSwap: "rewind.mid-swap",
  /** The new store in place, the derive tip not yet rewritten. */
  Swapped: "rewind.swapped",
} as const;
export type RewindCrashPoint = (typeof RewindCrashPoint)[keyof typeof RewindCrashPoint];

export type RewindChainCtx = {
  dataDir: string;
  /** Opens (or creates) a chain store of this chain in `dir`. */
  open(dir: string, opts: { scratch: boolean }): Promise<Chain>;
  logger: Logger;
  /** Test hook: the process kills itself (SIGKILL) at this point. */
  crashAt?: string | undefined;
};

export function crashIf(crashAt: string | undefined, point: RewindCrashPoint): void {
  if (crashAt === point) process.kill(process.pid, "SIGKILL");
}
const crash = (ctx: RewindChainCtx, point: RewindCrashPoint): void => crashIf(ctx.crashAt, point);

function fsyncPath(path: string): void {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsyncs every file under `dir` and the directory itself: a rename after it publishes durable data. */
function fsyncTree(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) fsyncTree(p);
    else fsyncPath(p);
  }
  fsyncPath(dir);
}

/**
 * Finishes or undoes a rewind a crash interrupted (sync, before the chain store is opened): a
 * complete copy is swapped in, an incomplete one and a replaced store are removed.
 */
export function recoverChainDirs(dataDir: string, log?: Logger): void {
  const d = dirs(dataDir);
  if (existsSync(d.complete)) {
    if (existsSync(d.chain)) {
      rmSync(d.replaced, { recursive: true, force: true });
      renameSync(d.chain, d.replaced);
    }
    renameSync(d.complete, d.chain);
    fsyncPath(dataDir);
    log?.warn("interrupted chain rewind: the rewound store swapped in", { dir: d.chain });
  }
  if (existsSync(d.filling)) {
    rmSync(d.filling, { recursive: true, force: true });
    log?.warn("interrupted chain rewind: the incomplete copy removed", { dir: d.filling });
  }
  rmSync(d.replaced, { recursive: true, force: true });
}

/**
 * Rewinds the chain store to block `to` (ADR 0184): blocks 1..to of `current` are executed again
 * and committed into a fresh store, which replaces `<dataDir>/chain`; `current` is closed and the
 * rewound chain returned (safe and finalized at `to`). Idempotent: a store already at `to` with
 * that hash is returned as it is. Costs one re-execution of the kept blocks.
 */
export async function rewindChainStore(
  ctx: RewindChainCtx,
  current: Chain,
  to: { number: bigint; hash: Hex },
): Promise<Chain> {
  const head = current.head();
  if (head.header.number === to.number && bytesToHex(head.hash()) === to.hash) return current;
  const kept = await current.getBlockByNumber(to.number);
  if (!kept || bytesToHex(kept.hash()) !== to.hash) {
    throw new DeriveError(DeriveErrorCode.BadStore, "the rewind target is not in the chain store", {
      batchIndex: 0n,
      block: to.number,
      field: "rewindTarget",
      expected: to.hash,
      actual: kept ? bytesToHex(kept.hash()) : "missing",
    });
  }
  const d = dirs(ctx.dataDir);
  const t0 = performance.now();
  recoverChainDirs(ctx.dataDir);
  const fresh = await ctx.open(d.filling, { scratch: true });
  try {
    for (let n = 1n; n <= to.number; n++) {
      const b = await current.getBlockByNumber(n);
      if (!b)
        throw new DeriveError(DeriveErrorCode.BadStore, "a block under the head is missing", {
          batchIndex: 0n,
          block: n,
          field: "block",
        });
      await fresh.commit(b);
      if (n === to.number / 2n) crash(ctx, RewindCrashPoint.MidCopy);
    }
    if (to.number > 0n) {
      await fresh.setSafe(to.number);
      await fresh.setFinalized(to.number);
    }
    if (bytesToHex(fresh.head().hash()) !== to.hash)
      throw new DeriveError(DeriveErrorCode.BadStore, "the rewound store ends on another block", {
        batchIndex: 0n,
        block: to.number,
        field: "hash",
        expected: to.hash,
        actual: bytesToHex(fresh.head().hash()),
      });
  } finally {
    await fresh.close();
  }
  fsyncTree(d.filling);
  renameSync(d.filling, d.complete);
  fsyncPath(ctx.dataDir);
  crash(ctx, RewindCrashPoint.Copied);
  await current.close();
  renameSync(d.chain, d.replaced);
  crash(ctx, RewindCrashPoint.MidSwap);
  renameSync(d.complete, d.chain);
  fsyncPath(ctx.dataDir);
  rmSync(d.replaced, { recursive: true, force: true });
  ctx.logger.warn("chain store rewound", {
    from: head.header.number.toString(),
    to: to.number.toString(),
    ms: Math.round(performance.now() - t0),
  });
  const rewound = await ctx.open(d.chain, { scratch: false });
  crash(ctx, RewindCrashPoint.Swapped);
  return rewound;
}
