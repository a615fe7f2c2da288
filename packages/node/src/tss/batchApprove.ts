import {
  approveBatch,
  type BatchTip,
  batchDigest,
  type CommittedBlock,
  type CommittedBlockSource,
  encodeBatch,
  headerFromJson,
  type L1Domain,
} from "@dseq/batch-submitter";
import { bytesToHex, errorMessage, type Logger } from "@dseq/common";
import type { ApproveFn } from "@dseq/mpc-tss";

/** Most blocks one batch may cover (the cutter cuts far smaller ones). */
const MAX_BATCH_BLOCKS = 10_000n;

export type BatchApproveCtx = {
  chainId: bigint;
  /** The inbox this node follows (the digest is bound to it). */
  domain: L1Domain;
  source: CommittedBlockSource;
  /** The inbox tip as this node reads it from L1 now. */
  tip(): Promise<BatchTip>;
  /** Counted as dseq_batch_refusals_total{reason}. */
  onRefusal(reason: string): void;
  logger: Logger;
};

/**
 * Every validator's policy for a batch share (ADR 0154): the request carries only the header
 * (`context: {kind: "batch", header}`); the signer reads the inbox tip from its own L1, takes the
 * header's blocks from its own committed chain, encodes them itself (the codec is deterministic)
 * and runs `approveBatch` on that, then checks the message is `batchDigest(header)` for its inbox.
 * Anything else (another kind, a malformed header, an L1 it cannot reach) is refused.
 */
export function batchApprove(ctx: BatchApproveCtx): ApproveFn {
  const refuse = (reason: string, detail: string, sid: string): false => {
    ctx.onRefusal(reason);
    ctx.logger.warn("batch share refused", { reason, detail, sid });
    return false;
  };
  return async (message, sc) => {
    if (sc.context.kind !== "batch") return refuse("kind", `kind ${String(sc.context.kind)}`, sc.sessionId);
    const header = headerFromJson(sc.context.header);
    if (!header) return refuse("bad_header", "malformed header", sc.sessionId);
    if (bytesToHex(message) !== batchDigest(ctx.domain, header).toLowerCase())
      return refuse("digest", "message is not the header's digest", sc.sessionId);
    let tip: BatchTip;
    try {
      tip = await ctx.tip();
    } catch (err) {
      return refuse("l1", `cannot read the inbox tip: ${errorMessage(err)}`, sc.sessionId);
    }
    if (header.lastBlock < header.firstBlock || header.lastBlock - header.firstBlock >= MAX_BATCH_BLOCKS)
      return refuse("wrong_range", `blocks ${header.firstBlock}..${header.lastBlock}`, sc.sessionId);
    if (header.firstBlock !== tip.lastBlock + 1n)
      return refuse(
        "wrong_range",
        `first block ${header.firstBlock}, next is ${tip.lastBlock + 1n}`,
        sc.sessionId,
      );
    const head = await ctx.source.head();
    const blocks: CommittedBlock[] = [];
    for (let n = header.firstBlock; n <= header.lastBlock && n <= head; n++) {
      const b = await ctx.source.block(n);
      if (!b) break;
      blocks.push(b);
    }
    // The data this node would post for these blocks: approveBatch checks it against dataHash.
    const data = blocks.length > 0 ? encodeBatch(blocks, { chainId: ctx.chainId }) : new Uint8Array();
    const verdict = approveBatch({ header, data }, { chainId: ctx.chainId, tip, head, blocks });
    if (!verdict.ok) return refuse(verdict.reason, verdict.detail, sc.sessionId);
    return true;
  };
}
