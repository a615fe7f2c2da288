import { bytesToHex, type Hex, type Logger } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import { type CommitCertificate, encodeCertificate } from "@dseq/pos-consensus";
import type { RotationSchedule } from "@dseq/sequencer-rotation";
import type { TxPool } from "@dseq/txpool";
import type { Block } from "@ethereumjs/block";
import { decodeBlockExtra } from "./blockExtra.ts";
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
  applyToSchedule(
    ctx.schedule,
    block.header.number,
    hash,
    block.header.extraData,
    certificate.round,
    block.header.timestamp,
  );
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
