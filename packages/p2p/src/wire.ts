import { bytesToBigint } from "@dseq/common";
import { RLP } from "@ethereumjs/rlp";
import { P2pError, P2pErrorCode } from "./errors.ts";

/**
 * Wire formats. Every payload is RLP; the version lives in the protocol id or topic name
 * (`/1`), so a format change is a new id, never a silent reinterpretation. Decoders are strict:
 * exact list arity, canonical integers, fixed-length hashes, no trailing bytes.
 */

export class DecodeError extends P2pError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(P2pErrorCode.Decode, message, { details });
    this.name = "DecodeError";
  }
}

type RlpItem = Uint8Array | RlpItem[];

export function rlpDecode(bytes: Uint8Array): RlpItem {
  try {
    return RLP.decode(bytes) as RlpItem;
  } catch (err) {
    throw new DecodeError("invalid RLP", { cause: (err as Error).message });
  }
}

export function expectList(item: RlpItem, length: number, what: string): RlpItem[] {
  if (!Array.isArray(item) || item.length !== length) {
    throw new DecodeError(`${what}: expected a list of ${length}`);
  }
  return item;
}

export function expectBytes(item: RlpItem | undefined, what: string, length?: number): Uint8Array {
  if (!(item instanceof Uint8Array)) throw new DecodeError(`${what}: expected bytes`);
  if (length !== undefined && item.length !== length) {
    throw new DecodeError(`${what}: expected ${length} bytes`, { got: item.length });
  }
  return item;
}

/** A canonical RLP unsigned integer (no leading zero byte), at most `maxBytes` long. */
export function expectUint(item: RlpItem | undefined, what: string, maxBytes = 8): bigint {
  const b = expectBytes(item, what);
  if (b.length > maxBytes) throw new DecodeError(`${what}: integer too large`);
  if (b.length > 0 && b[0] === 0) throw new DecodeError(`${what}: non-canonical integer`);
  return b.length === 0 ? 0n : bytesToBigint(b);
}

export function uintToRlp(n: bigint | number): Uint8Array {
  const v = BigInt(n);
  if (v < 0n) throw new RangeError("negative integer");
  if (v === 0n) return new Uint8Array(0);
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

// ---- status (/dseq/req/status/1) ----

export type Status = {
  chainId: bigint;
  genesisHash: Uint8Array;
  headHeight: bigint;
  headHash: Uint8Array;
};

export function encodeStatus(s: Status): Uint8Array {
  return RLP.encode([uintToRlp(s.chainId), s.genesisHash, uintToRlp(s.headHeight), s.headHash]);
}

export function decodeStatus(bytes: Uint8Array): Status {
  const l = expectList(rlpDecode(bytes), 4, "status");
  return {
    chainId: expectUint(l[0], "status.chainId"),
    genesisHash: expectBytes(l[1], "status.genesisHash", 32),
    headHeight: expectUint(l[2], "status.headHeight"),
    headHash: expectBytes(l[3], "status.headHash", 32),
  };
}

// ---- blocks-by-range (/dseq/req/blocks_by_range/1) ----

export type BlocksByRangeRequest = { from: bigint; count: number };

/** One committed block with its commit certificate; both opaque to p2p. */
export type BlockWithCertificate = { height: bigint; block: Uint8Array; certificate: Uint8Array };

export function encodeBlocksByRangeRequest(r: BlocksByRangeRequest): Uint8Array {
  return RLP.encode([uintToRlp(r.from), uintToRlp(r.count)]);
}

export function decodeBlocksByRangeRequest(bytes: Uint8Array): BlocksByRangeRequest {
  const l = expectList(rlpDecode(bytes), 2, "blocksByRange");
  return { from: expectUint(l[0], "from"), count: Number(expectUint(l[1], "count", 4)) };
}

export function encodeBlockWithCertificate(b: BlockWithCertificate): Uint8Array {
  return RLP.encode([uintToRlp(b.height), b.block, b.certificate]);
}

export function decodeBlockWithCertificate(bytes: Uint8Array): BlockWithCertificate {
  const l = expectList(rlpDecode(bytes), 3, "block");
  return {
    height: expectUint(l[0], "block.height"),
    block: expectBytes(l[1], "block.block"),
    certificate: expectBytes(l[2], "block.certificate"),
  };
}

// ---- gossip batches (transactions are gossiped in batches, never one message each) ----

export function encodeBatch(items: readonly Uint8Array[]): Uint8Array {
  return RLP.encode(items as Uint8Array[]);
}

export function decodeBatch(bytes: Uint8Array, maxItems: number): Uint8Array[] {
  const l = rlpDecode(bytes);
  if (!Array.isArray(l)) throw new DecodeError("batch: expected a list");
  if (l.length === 0) throw new DecodeError("batch: empty");
  if (l.length > maxItems) throw new DecodeError("batch: too many items", { items: l.length, maxItems });
  return l.map((x, i) => expectBytes(x, `batch[${i}]`));
}
