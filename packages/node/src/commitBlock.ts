import { bytesToHex, type Hex, type Logger } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import { type CommitCertificate, encodeCertificate } from "@dseq/pos-consensus";
import type { BlockOutcome, RotationSchedule } from "@dseq/sequencer-rotation";
import type { TxPool } from "@dseq/txpool";
import type { Block } from "@ethereumjs/block";
import { decodeBlockExtra } from "./blockExtra.ts";
import type { L2Entry } from "./l1Entries.ts";
import { applicableStakeChanges, applyToSchedule, committedEntries } from "./rotation.ts";

export type CommittedInfo = {
  height: number;
  round: number;
  hash: Hex;
  txs: number;
  gasUsed: bigint;
  proposer: Hex;
  timestamp: number;
  block: Block;
  /** The L1 entries the block holds (ADR 0120). */
  entries: readonly L2Entry[];
  /** What the block changed in the rotation schedule (span start, re-election, rewards). */
  outcome: BlockOutcome;
};

export type CommitBlockContext = {
  chain: Chain;
  pool: TxPool;
  schedule: RotationSchedule;
  logger: Logger;
  onCommitted(info: CommittedInfo): void;
  metrics: { commit(s: number): void };
};

/**
 * A decided block's side effects, in order: the block and its certificate stored (one atomic
 * batch, durable on return), the rotation schedule moved on, listeners told, then the pool
 * re-checked against the new state. No waiting for the next slot: the driver paces heights
 * (`startTime`).
 */
export async function commitBlock(
  ctx: CommitBlockContext,
  args: { height: number; block: Block; certificate: CommitCertificate },
): Promise<void> {
  const { height, block, certificate } = args;
  const t0 = performance.now();
  await ctx.chain.commit(block, undefined, {
    commitCertificate: encodeCertificate(certificate),
    safe: true,
    finalized: true,
  });
  const commitMs = performance.now() - t0;
  ctx.metrics.commit(commitMs / 1000);
  const hash = bytesToHex(block.hash());
  const entries = committedEntries(block);
  const stake = applicableStakeChanges(ctx.schedule, entries);
  for (const s of stake.skipped) {
    ctx.logger.warn("L1 stake change does not apply; it changes nothing", {
      height,
      index: s.index.toString(),
      reason: s.reason,
    });
  }
  const outcome = applyToSchedule(
    ctx.schedule,
    block.header.number,
    hash,
    block.header.extraData,
    certificate.round,
    block.header.timestamp,
    stake.changes,
  );
  logOutcome(ctx.logger, outcome, entries);
  const { proposer } = decodeBlockExtra(block.header.extraData);
  ctx.onCommitted({
    height,
    round: certificate.round,
    hash,
    txs: block.transactions.length,
    gasUsed: block.header.gasUsed,
    proposer,
    timestamp: Number(block.header.timestamp),
    block,
    entries,
    outcome,
  });
  // The block is visible now (RPC, subscriptions); let waiting requests see it before the
  // pool re-checks itself against the new state (tens of milliseconds at full blocks).
  await new Promise((r) => setImmediate(r));
  const t1 = performance.now();
  await ctx.pool.onNewHead({
    number: block.header.number,
    gasLimit: block.header.gasLimit,
    nextBaseFee: block.header.calcNextBaseFee(),
    includedTxHashes: block.transactions.map((t) => bytesToHex(t.hash())),
  });
  ctx.logger.debug("block stored", {
    height,
    commitMs: Math.round(commitMs),
    poolMs: Math.round(performance.now() - t1),
  });
}

/** Each fact once: entries taken, a span that starts with its set, a re-election. */
function logOutcome(log: Logger, o: BlockOutcome, entries: readonly L2Entry[]): void {
  if (entries.length > 0) {
    log.info("L1 entries committed", {
      height: o.height,
      from: entries[0]!.index.toString(),
      count: entries.length,
      deposits: entries.filter((e) => e.type === "deposit").length,
      stakeChanges: entries.filter((e) => e.type === "stake").length,
    });
  }
  if (o.spanStarted) {
    const s = o.spanStarted;
    log.info("span started", {
      span: s.index,
      startHeight: s.startHeight,
      sequencer: s.elections[0]?.sequencer,
      validators: s.validatorSet.validators.map((v) => ({
        id: v.id,
        address: v.address,
        power: Number(v.power),
      })),
      carriedOver: s.carriedOver,
    });
  }
  if (o.reelection) log.info("sequencer re-elected", { ...o.reelection });
}
