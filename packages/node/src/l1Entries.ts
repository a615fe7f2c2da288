import { bytesToHex, type Hex, hexToBytes } from "@dseq/common";
import type { L1Event } from "@dseq/l1-bridge-listener";
import { toRotationStakeChange } from "@dseq/l1-bridge-listener";
import type { L1Entry, L1EntryKind } from "@dseq/l2-exec";
import type { StakeChange } from "@dseq/sequencer-rotation";
import { RLP } from "@ethereumjs/rlp";

/**
 * An L1 event that changes L2, as a block carries it (ADR 0120). `index` is its place in the
 * one dense sequence of entries (deposits and applied stake changes, in L1 order).
 */
export type L2Entry =
  | { readonly type: "deposit"; readonly index: bigint; readonly to: Hex; readonly amount: bigint }
  | {
      readonly type: "stake";
      readonly index: bigint;
      readonly l1BlockHash: Hex;
      readonly logIndex: number;
      readonly sequencerId: bigint;
      readonly nonce: bigint;
      readonly change: StakeChange;
    };

/** A confirmed entry with where it came from on L1 (the listener's view, not in the block). */
export type ConfirmedEntry = { readonly entry: L2Entry; readonly seq: number; readonly l1Block: bigint };

export const GWEI = 1_000_000_000n;
/** Withdrawal `validatorIndex` of a stake-change chunk (0 deposit and 1 reward are l2-exec's). */
export const STAKE_CHUNK_KIND = 2;
const PAYLOAD_VERSION = 1;
const CHUNK = 20;

/** The entry an L1 event becomes, or undefined when it is not an entry (ADR 0120). */
export function entryOfEvent(e: L1Event, index: bigint): L2Entry | undefined {
  if (e.type === "deposit") {
    // Whole gwei only (the bridge refuses others); a sub-gwei rest is dropped alike everywhere.
    return { type: "deposit", index, to: e.to.toLowerCase() as Hex, amount: e.amount - (e.amount % GWEI) };
  }
  if (e.type !== "stake") return undefined;
  const change = toRotationStakeChange(e) as StakeChange | undefined;
  if (change === undefined) return undefined;
  return {
    type: "stake",
    index,
    l1BlockHash: e.l1.blockHash.toLowerCase() as Hex,
    logIndex: e.l1.logIndex,
    sequencerId: e.sequencerId,
    nonce: e.nonce,
    change,
  };
}

/** Minimal big-endian bytes of a non-negative integer (RLP's integer form). */
function big(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const hex = v.toString(16);
  return hexToBytes(`0x${hex.length % 2 === 0 ? hex : `0${hex}`}`);
}

function changeFields(c: StakeChange): Uint8Array[] {
  switch (c.kind) {
    case "lock":
      return [
        hexToBytes(c.owner),
        hexToBytes(c.signer),
        hexToBytes(c.signerPubkey),
        big(c.amount),
        hexToBytes(c.rewardRecipient),
      ];
    case "increase":
    case "withdraw":
      return [big(c.amount)];
    case "unlockStart":
    case "unlockComplete":
      return [];
    case "signerUpdate":
      return [hexToBytes(c.signer), hexToBytes(c.signerPubkey)];
    case "rewardRecipientUpdate":
      return [hexToBytes(c.rewardRecipient)];
  }
}

export function encodeStakePayload(e: Extract<L2Entry, { type: "stake" }>): Uint8Array {
  return RLP.encode([
    big(BigInt(PAYLOAD_VERSION)),
    hexToBytes(e.l1BlockHash),
    big(BigInt(e.logIndex)),
    big(e.sequencerId),
    big(e.nonce),
    new TextEncoder().encode(e.change.kind),
    ...changeFields(e.change),
  ]);
}

/** Entries as l2-exec's `l1Entries` (the block's withdrawals). */
export function entriesToL1Entries(entries: readonly L2Entry[]): L1Entry[] {
  const out: L1Entry[] = [];
  for (const e of entries) {
    if (e.type === "deposit") {
      out.push({ index: e.index, kind: 0, to: e.to, amount: e.amount });
      continue;
    }
    const payload = encodeStakePayload(e);
    for (let off = 0; off < payload.length; off += CHUNK) {
      const chunk = new Uint8Array(CHUNK);
      chunk.set(payload.subarray(off, off + CHUNK));
      out.push({ index: e.index, kind: STAKE_CHUNK_KIND as L1EntryKind, to: bytesToHex(chunk), amount: 0n });
    }
  }
  return out;
}

/** What a block's withdrawals list holds, as the node reads it. */
export type WithdrawalView = {
  index: bigint;
  validatorIndex: bigint;
  address: { toString(): string };
  amount: bigint;
};

export type DecodedEntries = { ok: true; entries: L2Entry[] } | { ok: false; reason: string };

class EntryDecodeError extends Error {}

const toNum = (b: Uint8Array, what: string): bigint => {
  if (b.length > 0 && b[0] === 0) throw new EntryDecodeError(`${what}: non-canonical integer`);
  if (b.length > 32) throw new EntryDecodeError(`${what}: too long`);
  return b.length === 0 ? 0n : BigInt(bytesToHex(b));
};
const addr = (b: Uint8Array | undefined, what: string): Hex => {
  if (!(b instanceof Uint8Array) || b.length !== 20) throw new EntryDecodeError(`${what}: not an address`);
  return bytesToHex(b);
};

function decodeStakePayload(index: bigint, bytes: Uint8Array): L2Entry {
  // The RLP list header gives the payload's length; the rest of the last chunk must be zero.
  let decoded: unknown;
  let len: number;
  try {
    const { data, remainder } = RLP.decode(bytes, true);
    decoded = data;
    len = bytes.length - remainder.length;
  } catch (err) {
    throw new EntryDecodeError(`stake payload is not RLP: ${(err as Error).message}`);
  }
  if (bytes.length - len >= CHUNK || bytes.subarray(len).some((b) => b !== 0)) {
    throw new EntryDecodeError("stake payload padding is not zero or longer than a chunk");
  }
  if (!Array.isArray(decoded) || decoded.some((x) => !(x instanceof Uint8Array))) {
    throw new EntryDecodeError("stake payload is not a flat list");
  }
  const f = decoded as Uint8Array[];
  if (f.length < 6 || toNum(f[0]!, "version") !== BigInt(PAYLOAD_VERSION)) {
    throw new EntryDecodeError("stake payload has a wrong version or too few fields");
  }
  if (f[1]!.length !== 32) throw new EntryDecodeError("l1 block hash is not 32 bytes");
  const logIndex = toNum(f[2]!, "logIndex");
  const sequencerId = toNum(f[3]!, "sequencerId");
  if (logIndex > 0xffffffffn || sequencerId > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new EntryDecodeError("log index or sequencer id out of range");
  }
  const id = Number(sequencerId);
  const kind = new TextDecoder().decode(f[5]!);
  const rest = f.slice(6);
  const want = (n: number): void => {
    if (rest.length !== n) throw new EntryDecodeError(`${kind} needs ${n} fields`);
  };
  const pubkey = (b: Uint8Array | undefined): Hex => {
    if (!(b instanceof Uint8Array) || b.length !== 64)
      throw new EntryDecodeError("signer key is not 64 bytes");
    return bytesToHex(b);
  };
  let change: StakeChange;
  switch (kind) {
    case "lock":
      want(5);
      change = {
        kind,
        id,
        owner: addr(rest[0], "owner"),
        signer: addr(rest[1], "signer"),
        signerPubkey: pubkey(rest[2]),
        amount: toNum(rest[3]!, "amount"),
        rewardRecipient: addr(rest[4], "rewardRecipient"),
      };
      break;
    case "increase":
    case "withdraw":
      want(1);
      change = { kind, id, amount: toNum(rest[0]!, "amount") };
      break;
    case "unlockStart":
    case "unlockComplete":
      want(0);
      change = { kind, id };
      break;
    case "signerUpdate":
      want(2);
      change = { kind, id, signer: addr(rest[0], "signer"), signerPubkey: pubkey(rest[1]) };
      break;
    case "rewardRecipientUpdate":
      want(1);
      change = { kind, id, rewardRecipient: addr(rest[0], "rewardRecipient") };
      break;
    default:
      throw new EntryDecodeError(`unknown stake change kind ${JSON.stringify(kind.slice(0, 32))}`);
  }
  const entry: L2Entry = {
    type: "stake",
    index,
    l1BlockHash: bytesToHex(f[1]!),
    logIndex: Number(logIndex),
    sequencerId,
    nonce: toNum(f[4]!, "nonce"),
    change,
  };
  // Canonical: re-encoding gives the same bytes (one payload per entry, nothing smuggled).
  const again = encodeStakePayload(entry);
  if (again.length !== len || again.some((b, i) => b !== bytes[i])) {
    throw new EntryDecodeError("stake payload is not in canonical form");
  }
  return entry;
}

/**
 * The entries a block carries, decoded strictly from its withdrawals (ADR 0120): deposits are
 * one withdrawal each, a stake change a run of zero-amount chunks with one index. Indexes are
 * not checked here (`checkL1Entries` does).
 */
export function decodeBlockEntries(ws: readonly WithdrawalView[] | undefined): DecodedEntries {
  const entries: L2Entry[] = [];
  const list = ws ?? [];
  try {
    for (let i = 0; i < list.length; ) {
      const w = list[i]!;
      if (w.validatorIndex === 0n) {
        entries.push({
          type: "deposit",
          index: w.index,
          to: w.address.toString().toLowerCase() as Hex,
          amount: w.amount * GWEI,
        });
        i++;
        continue;
      }
      if (w.validatorIndex !== BigInt(STAKE_CHUNK_KIND)) {
        throw new EntryDecodeError(`withdrawal ${i} has an unknown kind ${w.validatorIndex}`);
      }
      const parts: Uint8Array[] = [];
      let j = i;
      while (
        j < list.length &&
        list[j]!.validatorIndex === BigInt(STAKE_CHUNK_KIND) &&
        list[j]!.index === w.index
      ) {
        if (list[j]!.amount !== 0n) throw new EntryDecodeError(`stake chunk ${j} credits an amount`);
        parts.push(hexToBytes(list[j]!.address.toString() as Hex));
        j++;
      }
      const bytes = new Uint8Array(parts.length * CHUNK);
      parts.forEach((p, k) => {
        bytes.set(p, k * CHUNK);
      });
      entries.push(decodeStakePayload(w.index, bytes));
      i = j;
    }
  } catch (err) {
    if (err instanceof EntryDecodeError) return { ok: false, reason: err.message };
    throw err;
  }
  return { ok: true, entries };
}

/** Equal entries: same index and kind, same bytes on the wire (stake) or same recipient and amount. */
export function sameEntry(a: L2Entry, b: L2Entry): boolean {
  if (a.index !== b.index) return false;
  if (a.type === "deposit" || b.type === "deposit") {
    return a.type === "deposit" && b.type === "deposit" && a.to === b.to && a.amount === b.amount;
  }
  return bytesToHex(encodeStakePayload(a)) === bytesToHex(encodeStakePayload(b));
}
