import { bytesToHex, DseqError, hexToBytes, isHex } from "@dseq/common";
import type { ConsensusMessage } from "./types.ts";

/**
 * JSON with byte arrays as `{"$bytes": "0x.."}` and bigints as `{"$bigint": ".."}`: the WAL's
 * record body and the wire form of consensus messages (ADR 0052). Readable in a hex dump and
 * with `jq`; the bulk of a block travels as hex, which is fine at our block sizes.
 */
export function encodeJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v instanceof Uint8Array) return { $bytes: bytesToHex(v) };
    if (typeof v === "bigint") return { $bigint: v.toString() };
    return v;
  });
}

export function decodeJson<T>(text: string): T {
  return JSON.parse(text, (_k, v: unknown) => {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      if (typeof o.$bytes === "string" && Object.keys(o).length === 1) return hexToBytes(o.$bytes);
      if (typeof o.$bigint === "string" && Object.keys(o).length === 1) return BigInt(o.$bigint);
    }
    return v;
  }) as T;
}

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

export function encodeConsensusMessage(msg: ConsensusMessage): Uint8Array {
  return enc.encode(encodeJson(msg));
}

function bad(what: string): never {
  throw new DseqError("CONSENSUS_BAD_MESSAGE", `malformed consensus message: ${what}`);
}

const isUint = (n: unknown, max = Number.MAX_SAFE_INTEGER): n is number =>
  typeof n === "number" && Number.isSafeInteger(n) && n >= 0 && n <= max;
const isHash = (h: unknown): boolean => isHex(h) && (h as string).length === 66;
const isAddr = (h: unknown): boolean => isHex(h) && (h as string).length === 42;
const isSig = (h: unknown): boolean => isHex(h) && (h as string).length === 130;

/**
 * Decodes and shape-checks an inbound message (defensively: it came from the network).
 * Signatures are checked later, against the validator set.
 */
export function decodeConsensusMessage(bytes: Uint8Array, maxBytes = 4 * 1024 * 1024): ConsensusMessage {
  if (bytes.length > maxBytes) bad("too large");
  let m: Record<string, unknown>;
  try {
    m = decodeJson<Record<string, unknown>>(dec.decode(bytes));
  } catch {
    return bad("not JSON");
  }
  if (m === null || typeof m !== "object") bad("not an object");
  switch (m.type) {
    case "vote": {
      const v = m.vote as Record<string, unknown> | undefined;
      if (!v || (v.type !== 1 && v.type !== 2)) bad("vote type");
      if (!isUint(v.height) || !isUint(v.round, 0xfffffffe)) bad("vote height/round");
      if (v.blockHash !== null && !isHash(v.blockHash)) bad("vote block hash");
      if (!isAddr(v.validator) || !isSig(v.signature)) bad("vote validator/signature");
      return {
        type: "vote",
        vote: {
          type: v.type as 1 | 2,
          height: v.height as number,
          round: v.round as number,
          blockHash: v.blockHash as `0x${string}` | null,
          validator: (v.validator as string).toLowerCase() as `0x${string}`,
          signature: v.signature as `0x${string}`,
        },
      };
    }
    case "proposal": {
      const p = m.proposal as Record<string, unknown> | undefined;
      const b = m.block as Record<string, unknown> | undefined;
      if (!p || !b) bad("proposal fields");
      if (!isUint(p.height) || !isUint(p.round, 0xfffffffe)) bad("proposal height/round");
      if (typeof p.polRound !== "number" || !Number.isInteger(p.polRound) || p.polRound < -1)
        bad("pol round");
      if (!isHash(p.blockHash) || !isAddr(p.proposer) || !isSig(p.signature))
        bad("proposal hash/proposer/sig");
      if (!isHash(b.hash) || !(b.payload instanceof Uint8Array)) bad("block");
      return {
        type: "proposal",
        proposal: {
          height: p.height as number,
          round: p.round as number,
          polRound: p.polRound as number,
          blockHash: p.blockHash as `0x${string}`,
          proposer: (p.proposer as string).toLowerCase() as `0x${string}`,
          signature: p.signature as `0x${string}`,
        },
        block: { hash: b.hash as `0x${string}`, payload: b.payload as Uint8Array },
      };
    }
    case "certificate": {
      const c = m.certificate as Record<string, unknown> | undefined;
      if (!c || !isUint(c.height) || !isUint(c.round, 0xfffffffe) || !isHash(c.blockHash)) bad("certificate");
      if (!Array.isArray(c.signatures) || c.signatures.length > 10_000) bad("certificate signatures");
      const signatures = (c.signatures as Record<string, unknown>[]).map((s) => {
        if (!s || !isAddr(s.validator) || !isSig(s.signature)) bad("certificate signature");
        return {
          validator: (s.validator as string).toLowerCase() as `0x${string}`,
          signature: s.signature as `0x${string}`,
        };
      });
      return {
        type: "certificate",
        certificate: {
          height: c.height as number,
          round: c.round as number,
          blockHash: c.blockHash as `0x${string}`,
          signatures,
        },
      };
    }
    default:
      return bad("unknown type");
  }
}
