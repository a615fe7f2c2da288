import { concatBytes, type Hex, hexToBytes, utf8ToBytes } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import type { ConsensusInput } from "./consensusCore.ts";
import { proposalSignBytes, voteSignBytes } from "./signBytes.ts";
import type { ConsensusMessage } from "./types.ts";
import { MAX_CONFLICTING_VOTES } from "./voteSet.ts";

/*
 * What the driver remembers about inbound messages, bounded (ADR 0056): the signed content it
 * has already taken (so a copy under a new gossip envelope is ignored and not written to the
 * WAL again), how many distinct messages each validator got in per (round, kind), and the
 * messages of the next height kept until the node gets there.
 */

/** Approximate wire size of a message, for byte budgets. */
export function messageBytes(m: ConsensusMessage): number {
  switch (m.type) {
    case "vote":
      return 128;
    case "proposal":
      return 192 + m.block.payload.length;
    case "certificate":
      return 64 + 88 * m.certificate.signatures.length;
  }
}

/** Who signed a message; a certificate has many signers and is keyed on its own. */
export function messageSender(m: ConsensusMessage): string {
  switch (m.type) {
    case "vote":
      return m.vote.validator;
    case "proposal":
      return m.proposal.proposer;
    case "certificate":
      return "certificate";
  }
}

/**
 * Identity of a message's signed content: keccak of the sign bytes and the signature (a
 * proposal adds its block hash; a certificate its height, round, block and every signature).
 * The gossip envelope is not part of it. Throws on a message that is not well formed.
 */
export function messageKey(chainId: bigint, m: ConsensusMessage): Hex {
  let bytes: Uint8Array;
  switch (m.type) {
    case "vote":
      bytes = concatBytes(voteSignBytes(chainId, m.vote), hexToBytes(m.vote.signature));
      break;
    case "proposal":
      bytes = concatBytes(
        proposalSignBytes(chainId, m.proposal),
        hexToBytes(m.proposal.signature),
        hexToBytes(m.block.hash),
      );
      break;
    case "certificate": {
      const c = m.certificate;
      const sigs = c.signatures.map((s) => `${s.validator.toLowerCase()}${s.signature.toLowerCase()}`).sort();
      bytes = utf8ToBytes(`cert:${c.height}:${c.round}:${c.blockHash.toLowerCase()}:${sigs.join(",")}`);
      break;
    }
  }
  return `0x${Buffer.from(keccak256(bytes)).toString("hex")}`;
}

function roundAndKind(m: ConsensusMessage): string {
  switch (m.type) {
    case "vote":
      return `${m.vote.round}:${m.vote.type}`;
    case "proposal":
      return `${m.proposal.round}:p`;
    case "certificate":
      return `${m.certificate.round}:c`;
  }
}

/**
 * Distinct messages taken per (height, sender, round, kind): one honest message plus as many
 * conflicting ones as a vote set can use as evidence. More from one validator only grow the
 * WAL.
 */
export function quotaFor(m: ConsensusMessage): number {
  return m.type === "proposal" ? 2 : MAX_CONFLICTING_VOTES + 1;
}

export type SeenSetOptions = {
  /** Message keys remembered at most (oldest forgotten first). */
  maxKeys: number;
};

/** Signed content already taken, and per-sender counts, for the current and next heights. */
export class SeenSet {
  private readonly keys = new Map<Hex, number>();
  private readonly counts = new Map<string, number>();
  private readonly max: number;

  constructor(opts: SeenSetOptions) {
    this.max = opts.maxKeys;
  }

  get size(): number {
    return this.keys.size;
  }

  has(key: Hex): boolean {
    return this.keys.has(key);
  }

  /** Whether one more distinct message of this sender, round and kind may be taken. */
  withinQuota(height: number, m: ConsensusMessage): boolean {
    return (this.counts.get(countKey(height, m)) ?? 0) < quotaFor(m);
  }

  /** Records a message as taken (its key, and one more for its sender's quota). */
  add(key: Hex, height: number, m?: ConsensusMessage): void {
    if (this.keys.has(key)) return;
    this.keys.set(key, height);
    if (this.keys.size > this.max) this.keys.delete(this.keys.keys().next().value as Hex);
    if (m) {
      const ck = countKey(height, m);
      this.counts.set(ck, (this.counts.get(ck) ?? 0) + 1);
      if (this.counts.size > this.max) this.counts.delete(this.counts.keys().next().value as string);
    }
  }

  /** Forgets a message taken but then dropped unprocessed (the queue was full). */
  forget(input: ConsensusInput, height: number, chainId: bigint): void {
    if (input.type !== "vote" && input.type !== "proposal" && input.type !== "certificate") return;
    const m = input as ConsensusMessage;
    const key = messageKey(chainId, m);
    if (!this.keys.delete(key)) return;
    const ck = countKey(height, m);
    const n = this.counts.get(ck) ?? 0;
    if (n <= 1) this.counts.delete(ck);
    else this.counts.set(ck, n - 1);
  }

  /** Forgets everything below `height` (messages of decided heights go the stale path). */
  prune(height: number): void {
    for (const [k, h] of this.keys) if (h < height) this.keys.delete(k);
    for (const k of this.counts.keys())
      if (Number(k.slice(0, k.indexOf(":"))) < height) this.counts.delete(k);
  }
}

function countKey(height: number, m: ConsensusMessage): string {
  return `${height}:${messageSender(m)}:${roundAndKind(m)}`;
}

export type FutureBufferOptions = {
  /** All buffered messages together, in bytes (`messageBytes`). */
  maxBytes: number;
  /** Messages in all. */
  maxCount: number;
  /** Messages of one sender (a proposal and two votes for a few rounds). */
  perSenderCount: number;
  /** Bytes of one sender: room for one largest proposal and its votes. */
  perSenderBytes: number;
};

type Buffered = { message: ConsensusMessage; height: number; sender: string; bytes: number };

/**
 * Messages of the next height, kept until the node enters it. The driver puts only messages
 * it verified against that height's validators here; the caps keep one sender (or all of
 * them) from filling memory.
 */
export class FutureBuffer {
  private list: Buffered[] = [];
  private total = 0;
  private readonly perSender = new Map<string, { count: number; bytes: number }>();
  private readonly opts: FutureBufferOptions;

  constructor(opts: FutureBufferOptions) {
    this.opts = opts;
  }

  get bytes(): number {
    return this.total;
  }

  get count(): number {
    return this.list.length;
  }

  /** Keeps the message if every cap allows it; false when it was not kept. */
  add(message: ConsensusMessage, height: number): boolean {
    const bytes = messageBytes(message);
    const sender = messageSender(message);
    const mine = this.perSender.get(sender) ?? { count: 0, bytes: 0 };
    if (
      this.list.length >= this.opts.maxCount ||
      this.total + bytes > this.opts.maxBytes ||
      mine.count >= this.opts.perSenderCount ||
      mine.bytes + bytes > this.opts.perSenderBytes
    ) {
      return false;
    }
    this.list.push({ message, height, sender, bytes });
    this.total += bytes;
    this.perSender.set(sender, { count: mine.count + 1, bytes: mine.bytes + bytes });
    return true;
  }

  /** Removes and returns, in arrival order, the messages of `height`; older ones are dropped. */
  take(height: number): ConsensusMessage[] {
    const out: ConsensusMessage[] = [];
    const keep: Buffered[] = [];
    for (const b of this.list) {
      if (b.height === height) out.push(b.message);
      else if (b.height > height) keep.push(b);
    }
    this.list = [];
    this.total = 0;
    this.perSender.clear();
    for (const b of keep) this.add(b.message, b.height);
    return out;
  }
}

/** The height a message is of. */
export function messageHeight(m: ConsensusMessage): number {
  switch (m.type) {
    case "vote":
      return m.vote.height;
    case "proposal":
      return m.proposal.height;
    case "certificate":
      return m.certificate.height;
  }
}

export function messageRound(m: ConsensusMessage): number {
  return m.type === "vote" ? m.vote.round : m.type === "proposal" ? m.proposal.round : m.certificate.round;
}

/** The state machine input that carries a message. */
export function messageToInput(m: ConsensusMessage): ConsensusInput {
  switch (m.type) {
    case "vote":
      return { type: "vote", vote: m.vote };
    case "proposal":
      return { type: "proposal", proposal: m.proposal, block: m.block };
    case "certificate":
      return { type: "certificate", certificate: m.certificate };
  }
}

/** Whether `input` carries a message signed by `self` (this node's validator address). */
export function isOwnInput(input: ConsensusInput, self: Hex | null): boolean {
  if (self === null) return false;
  if (input.type === "vote") return input.vote.validator === self;
  if (input.type === "proposal") return input.proposal.proposer === self;
  return false;
}

/** The height an input is of (`start` is of the current one). */
export function inputHeight(input: ConsensusInput, current: number): number {
  switch (input.type) {
    case "start":
      return current;
    case "vote":
      return input.vote.height;
    case "proposal":
      return input.proposal.height;
    case "certificate":
      return input.certificate.height;
    default:
      return input.height;
  }
}
