import { bytesToHex, type Hex } from "@dseq/common";
import type { Block as ConsensusBlock } from "@dseq/pos-consensus";
import type { Block } from "@ethereumjs/block";
import { decodeBlockExtra } from "./blockExtra.ts";

/** What proposal checking reads from the rotation schedule. */
export type ProposalScheduleView = {
  proposerFor(height: number, round: number): Hex;
  /** The reward recipient of `validator` in the set of `height`; undefined when it is not in it. */
  rewardRecipient(height: number, validator: Hex): Hex | undefined;
};

/** The committed head a proposal must extend. */
export type ParentView = { hash: Hex; number: bigint; timestamp: bigint; gasLimit: bigint };

export type ProposalCheckOptions = {
  blockTimeMs: number;
  /** How far in the future a proposed block's timestamp may be, seconds. */
  maxFutureSeconds: number;
  /**
   * Highest round a block may name in its extraData. The schedule answers `proposerFor(h, r)`
   * by walking the proposer order up to r, so a hostile round (0xffffffff) must stop here.
   */
  maxRound: number;
  /** Largest proposal payload (RLP bytes) a validator decodes; the builder caps its blocks the same. */
  maxBlockBytes: number;
};

export type ProposalCheck = { ok: true; round: number; proposer: Hex } | { ok: false; reason: string };

export type DecodedProposal = { ok: true; block: Block } | { ok: false; reason: string };

/** Why a payload is refused for its size alone; undefined when it is within the cap. */
export function payloadSizeError(
  payload: Uint8Array,
  opts: Pick<ProposalCheckOptions, "maxBlockBytes">,
): string | undefined {
  if (payload.length <= opts.maxBlockBytes) return undefined;
  return `block of ${payload.length} bytes is over the cap of ${opts.maxBlockBytes}`;
}

/**
 * A proposal's payload as a block: refused above the byte cap before any decoding, and refused
 * unless the payload's block has the proposal's hash.
 */
export function decodeProposal(
  decode: (payload: Uint8Array) => Block,
  cb: ConsensusBlock,
  opts: Pick<ProposalCheckOptions, "maxBlockBytes">,
): DecodedProposal {
  const tooBig = payloadSizeError(cb.payload, opts);
  if (tooBig !== undefined) return { ok: false, reason: tooBig };
  let block: Block;
  try {
    block = decode(cb.payload);
  } catch (err) {
    return { ok: false, reason: `undecodable block: ${(err as Error).message}` };
  }
  if (bytesToHex(block.hash()) !== cb.hash) return { ok: false, reason: "hash does not match the payload" };
  return { ok: true, block };
}

/**
 * Everything about a proposed block that needs no execution: that it extends `parent` at
 * `height`, its time, its builder and round (extraData) against the schedule, its coinbase and
 * gas fields. A function of the block, the chain (parent, schedule) and the clock only: never
 * of this node's pool or preferences, so every honest validator answers the same.
 */
export function checkProposal(
  args: { height: number; block: Block; parent: ParentView; nowMs: number },
  schedule: ProposalScheduleView,
  opts: Omit<ProposalCheckOptions, "maxBlockBytes">,
): ProposalCheck {
  const { height, parent } = args;
  const h = args.block.header;
  if (h.number !== BigInt(height) || parent.number + 1n !== h.number) {
    return { ok: false, reason: "wrong block number" };
  }
  if (bytesToHex(h.parentHash) !== parent.hash)
    return { ok: false, reason: "parent is not the committed head" };
  if (h.timestamp < parent.timestamp + BigInt(opts.blockTimeMs / 1000)) {
    return { ok: false, reason: "timestamp earlier than parent + block time" };
  }
  const nowSec = BigInt(Math.floor(args.nowMs / 1000));
  if (h.timestamp > nowSec + BigInt(opts.maxFutureSeconds)) {
    return { ok: false, reason: "timestamp too far in the future" };
  }
  // Gas used over the limit never gets here: the block decoder refuses such a header.
  if (h.gasLimit !== parent.gasLimit) return { ok: false, reason: "gas limit differs from the parent's" };
  let extra: { round: number; proposer: Hex };
  try {
    extra = decodeBlockExtra(h.extraData);
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
  // Before the schedule is asked anything about this round (see maxRound).
  if (extra.round > opts.maxRound) {
    return { ok: false, reason: `round ${extra.round} is above the highest accepted (${opts.maxRound})` };
  }
  let expected: Hex;
  try {
    expected = schedule.proposerFor(height, extra.round);
  } catch (err) {
    return { ok: false, reason: `cannot check proposer: ${(err as Error).message}` };
  }
  if (expected !== extra.proposer) return { ok: false, reason: "builder is not the proposer of its round" };
  if (h.coinbase.toString() !== schedule.rewardRecipient(height, extra.proposer)) {
    return { ok: false, reason: "coinbase is not the proposer's reward recipient" };
  }
  return { ok: true, round: extra.round, proposer: extra.proposer };
}
