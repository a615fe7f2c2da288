import { randomBytes } from "node:crypto";
import { bytesToHex, type Hex, type Logger, utf8ToBytes } from "@dseq/common";
import type { BlockSource, BlockWithCertificate } from "@dseq/p2p";
import {
  type ConsensusMessage,
  createKeySigner,
  encodeCertificate,
  type Proposal,
  proposalSignBytes,
  type Vote,
  voteSignBytes,
} from "@dseq/pos-consensus";
import { type Block, createBlockFromBytesArray } from "@ethereumjs/block";
import { encodeBlockExtra } from "./blockExtra.ts";
import { type BlockFragment, encodeFragment } from "./blockStream.ts";
import type { ByzantineOptions } from "./config.ts";
import { encodeConsensusEnvelope } from "./consensusWire.ts";

export type { ByzantineOptions } from "./config.ts";

/**
 * Byzantine behaviours a node can be told to show (ADR 0105): for tests and research only,
 * never on a real network. Each wrapper is applied once at start-up at one of the node's seams
 * (the broadcast function, the block source, the proposal topic's judge); with every flag off
 * the node builds exactly what it builds without this file.
 */

/** The names of the flags that are on (empty: an honest node). */
export function byzantineFlags(o: ByzantineOptions | undefined): string[] {
  if (!o) return [];
  const on: string[] = [];
  if (o.equivocateProposals) on.push("equivocateProposals");
  if (o.equivocateVotes) on.push("equivocateVotes");
  if (o.equivocateFragments) on.push("equivocateFragments");
  if (o.wrongRound !== "off") on.push(`wrongRound:${o.wrongRound}`);
  if (o.oversizedBlock) on.push("oversizedBlock");
  if (o.garbageGossip) on.push("garbageGossip");
  if (o.replayGossip) on.push("replayGossip");
  if (o.poisonCatchUp) on.push("poisonCatchUp");
  if (o.hugeHead) on.push("hugeHead");
  return on;
}

/** The byte cap an `oversizedBlock` node builds to: over the chain's, under the proposal topic's 4 MiB. */
export function oversizedBlockBytes(maxBlockBytes: number): number {
  return Math.min(Math.floor(maxBlockBytes * 1.6), 4 * 1024 * 1024 - 64 * 1024);
}

export type ByzantineContext = {
  chainId: bigint;
  /** Signs directly with the key: the double-sign guard is what these behaviours go around. */
  privateKey: Uint8Array;
  decodeBlock(payload: Uint8Array): Block;
  publish(kind: "proposal" | "vote", data: Uint8Array): Promise<number>;
  logger: Logger;
};

/** The honest broadcast, then what the flags add: a conflicting twin, or a rewritten proposal. */
export function byzantineBroadcast(
  o: ByzantineOptions,
  ctx: ByzantineContext,
  honest: (msg: ConsensusMessage) => void,
): (msg: ConsensusMessage) => void {
  const signer = createKeySigner(ctx.privateKey);
  const send = (msg: ConsensusMessage): void => {
    ctx.publish(msg.type === "proposal" ? "proposal" : "vote", encodeConsensusEnvelope(msg)).catch(() => {});
  };
  const signProposal = async (p: Omit<Proposal, "signature">): Promise<Proposal> => ({
    ...p,
    signature: bytesToHex(await signer.sign(proposalSignBytes(ctx.chainId, p))),
  });
  return (msg) => {
    if (msg.type === "proposal" && o.wrongRound !== "off") {
      void (async () => {
        const r = msg.proposal.round;
        const named = o.wrongRound === "max" ? 0xffffffff : o.wrongRound === "zero" ? 0 : r + 1;
        if (named === r) return honest(msg);
        const block = rewriteHeader(ctx.decodeBlock(msg.block.payload), (raw) => {
          raw[12] = encodeBlockExtra({ round: named, proposer: msg.proposal.proposer });
        });
        const { signature: _s, ...unsigned } = msg.proposal;
        const proposal = await signProposal({ ...unsigned, blockHash: bytesToHex(block.hash()) });
        ctx.logger.warn("byzantine: proposal names a wrong round", { round: r, named });
        send({ type: "proposal", proposal, block: { hash: proposal.blockHash, payload: block.serialize() } });
      })().catch((err: unknown) => ctx.logger.warn("byzantine: wrongRound failed", { err }));
      return;
    }
    honest(msg);
    if (msg.type === "proposal" && o.equivocateProposals) {
      void (async () => {
        // The same block one second later: as valid as the first where nothing reads the time.
        const twin = rewriteHeader(ctx.decodeBlock(msg.block.payload), (raw) => {
          const t = BigInt(
            bytesToHex(raw[11] as Uint8Array) === "0x" ? 0 : bytesToHex(raw[11] as Uint8Array),
          );
          raw[11] = bigintBytes(t + 1n);
        });
        const { signature: _s, ...unsigned } = msg.proposal;
        const proposal = await signProposal({ ...unsigned, blockHash: bytesToHex(twin.hash()) });
        ctx.logger.warn("byzantine: equivocating proposal", {
          height: proposal.height,
          round: proposal.round,
        });
        send({ type: "proposal", proposal, block: { hash: proposal.blockHash, payload: twin.serialize() } });
      })().catch((err: unknown) => ctx.logger.warn("byzantine: equivocateProposals failed", { err }));
    }
    if (msg.type === "vote" && o.equivocateVotes) {
      void (async () => {
        const { signature: _s, ...unsigned } = msg.vote;
        const other = { ...unsigned, blockHash: unsigned.blockHash === null ? randomHash() : null };
        const vote: Vote = {
          ...other,
          signature: bytesToHex(await signer.sign(voteSignBytes(ctx.chainId, other))),
        };
        send({ type: "vote", vote });
      })().catch((err: unknown) => ctx.logger.warn("byzantine: equivocateVotes failed", { err }));
    }
  };
}

/**
 * A fragment that contradicts `f` at the same (height, seq): its transactions reversed, or, when
 * that changes nothing (none or one), a timestamp one second later.
 */
export function conflictingFragment(f: BlockFragment): BlockFragment {
  if (f.txs.length > 1) return { ...f, txs: [...f.txs].reverse() };
  return { ...f, timestamp: f.timestamp + 1n };
}

/**
 * The stream seam (`equivocateFragments`, ADR 0171): every fragment goes out honestly, then a
 * conflicting twin signed with the same key goes out on the proposal topic.
 */
export function byzantineStream(
  o: ByzantineOptions,
  ctx: Pick<ByzantineContext, "chainId" | "privateKey" | "publish" | "logger">,
  honest: { publish(fragment: BlockFragment): void },
): { publish(fragment: BlockFragment): void } {
  if (!o.equivocateFragments) return honest;
  return {
    publish(fragment) {
      honest.publish(fragment);
      const twin = encodeFragment(conflictingFragment(fragment), ctx.chainId, ctx.privateKey);
      ctx.logger.warn("byzantine: equivocating fragment", { height: fragment.height, seq: fragment.seq });
      ctx.publish("proposal", twin).catch(() => {});
    },
  };
}

/** For the proposal topic's judge: every proposal received goes out again `times` times. */
export function replayProposals(
  o: ByzantineOptions,
  ctx: Pick<ByzantineContext, "publish">,
): (msg: ConsensusMessage) => void {
  return (msg) => {
    if (msg.type !== "proposal") return;
    for (let i = 0; i < o.replayTimes; i++)
      ctx.publish("proposal", encodeConsensusEnvelope(msg)).catch(() => {});
  };
}

/** Random bytes and malformed envelopes on the vote and proposal topics every `garbageGossipEveryMs`. */
export function startGarbageGossip(o: ByzantineOptions, ctx: Pick<ByzantineContext, "publish">): () => void {
  let n = 0;
  const timer = setInterval(() => {
    const kind = n % 2 === 0 ? "vote" : "proposal";
    ctx.publish(kind, garbage(n++)).catch(() => {});
  }, o.garbageGossipEveryMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The n-th piece of garbage: random bytes, a v1 envelope around junk, an empty RLP list, a cut envelope. */
export function garbage(n: number): Uint8Array {
  const junk = randomBytes(32 + (n % 7) * 97);
  switch (n % 4) {
    case 0:
      return junk;
    case 1:
      return Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, n & 0xff, ...junk]);
    case 2:
      return Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 1, n & 0xff, 0xc0]);
    default:
      return Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 2, n & 0xff, 0xf8, 0xff, 0x01]);
  }
}

/** Head 2^62 in the status handshake (`hugeHead`); poisoned `blocks_by_range` answers (`poisonCatchUp`). */
export function byzantineBlockSource(o: ByzantineOptions | undefined, honest: BlockSource): BlockSource {
  if (!o || (!o.hugeHead && !o.poisonCatchUp)) return honest;
  let answers = 0;
  return {
    head: o.hugeHead ? async () => ({ ...(await honest.head()), height: 2n ** 62n }) : () => honest.head(),
    getRange: o.poisonCatchUp
      ? async (from, count) => poison(answers++, await honest.getRange(from, count), honest)
      : (from, count) => honest.getRange(from, count),
  };
}

async function poison(
  n: number,
  blocks: BlockWithCertificate[],
  honest: BlockSource,
): Promise<BlockWithCertificate[]> {
  switch (n % 4) {
    case 0:
      return blocks.map((b) => ({ ...b, certificate: utf8ToBytes('{"signatures":[{}]}') }));
    case 1:
      return blocks.map((b) => ({ ...b, certificate: randomBytes(b.certificate.length || 64) }));
    case 2:
      return blocks.map((b) => ({ ...b, height: b.height + 1000n }));
    default: {
      // Each block with the certificate of another height (genesis has none: height 1's).
      const [other] = await honest.getRange(blocks[0]?.height === 1n ? 2n : 1n, 1);
      const cert =
        other?.certificate ??
        encodeCertificate({ height: 1, round: 0, blockHash: randomHash(), signatures: [] });
      return blocks.map((b) => ({ ...b, certificate: cert }));
    }
  }
}

type HeaderFields = Uint8Array[];

function rewriteHeader(block: Block, edit: (header: HeaderFields) => void): Block {
  const raw = block.raw() as unknown as [HeaderFields, ...unknown[]];
  const header = [...raw[0]];
  edit(header);
  return createBlockFromBytesArray([header, ...raw.slice(1)] as never, {
    common: block.common,
    setHardfork: true,
  });
}

function bigintBytes(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const hex = v.toString(16);
  return Uint8Array.from(Buffer.from(hex.length % 2 ? `0${hex}` : hex, "hex"));
}

function randomHash(): Hex {
  return bytesToHex(randomBytes(32));
}
