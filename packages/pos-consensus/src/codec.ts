import { bytesToHex, type Hex, hexToBytes } from "@dseq/common";
import { RLP } from "@ethereumjs/rlp";
import { ConsensusError, ConsensusErrorCode } from "./errors.ts";
import type { Block, CommitCertificate, ConsensusMessage, Proposal, Vote } from "./types.ts";

/*
 * The binary forms of consensus data (ADR 0054): RLP lists with exact shapes, fixed-length
 * byte strings (hash 32, address 20, signature 64) and canonical integers. Decoding is strict
 * (it is fed by the network and by files on disk): anything else throws
 * `CONSENSUS_BAD_MESSAGE`. The encoders check the same shapes, so a value that would not
 * decode is never written.
 *
 *   vote        [1, type, height, round, blockHash | "" (nil), validator, signature]
 *   proposal    [2, height, round, polRound + 1, blockHash, proposer, signature, payload]
 *   certificate [3, height, round, blockHash, [[validator, signature], ...]]
 *
 * A proposal carries its block's payload; the block's hash is the proposal's, so a message
 * whose block does not match its proposal cannot be expressed. A certificate on its own
 * (the chain store) is the certificate list without the leading kind.
 */

const BAD_MESSAGE = ConsensusErrorCode.BadMessage;

/** Largest consensus message accepted by default (a proposal with its block). */
export const MAX_CONSENSUS_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Largest standalone certificate (binary), and the legacy JSON form's cap. */
export const MAX_CERTIFICATE_BYTES = 1024 * 1024;
const MAX_LEGACY_CERTIFICATE_BYTES = 4 * 1024 * 1024;
/** Signatures in one certificate at most (validators of a set). */
export const MAX_CERTIFICATE_SIGNATURES = 10_000;
export const MAX_ROUND = 0xfffffffe;

export const MessageKind = { Vote: 1, Proposal: 2, Certificate: 3 } as const;

export function bad(what: string): never {
  throw new ConsensusError(BAD_MESSAGE, `malformed consensus data: ${what}`);
}

// ---------------------------------------------------------------------------------------
// Field checks shared by the encoders, the decoders and the driver's shape guard.

const HEX_RE: Record<number, RegExp> = {
  20: /^0x[0-9a-fA-F]{40}$/,
  32: /^0x[0-9a-fA-F]{64}$/,
  64: /^0x[0-9a-fA-F]{128}$/,
};

export const isFixedHex = (v: unknown, bytes: 20 | 32 | 64): v is Hex =>
  typeof v === "string" && HEX_RE[bytes]!.test(v);
export const isUint = (n: unknown, max = Number.MAX_SAFE_INTEGER): n is number =>
  typeof n === "number" && Number.isSafeInteger(n) && n >= 0 && n <= max;

export function isVoteShape(v: unknown): v is Vote {
  if (v === null || typeof v !== "object") return false;
  const o = v as Record<string, unknown>;
  return (
    (o.type === 1 || o.type === 2) &&
    isUint(o.height) &&
    isUint(o.round, MAX_ROUND) &&
    (o.blockHash === null || isFixedHex(o.blockHash, 32)) &&
    isFixedHex(o.validator, 20) &&
    isFixedHex(o.signature, 64)
  );
}

export function isProposalShape(p: unknown): p is Proposal {
  if (p === null || typeof p !== "object") return false;
  const o = p as Record<string, unknown>;
  return (
    isUint(o.height) &&
    isUint(o.round, MAX_ROUND) &&
    typeof o.polRound === "number" &&
    Number.isInteger(o.polRound) &&
    o.polRound >= -1 &&
    o.polRound < (o.round as number) &&
    isFixedHex(o.blockHash, 32) &&
    isFixedHex(o.proposer, 20) &&
    isFixedHex(o.signature, 64)
  );
}

export function isBlockShape(b: unknown): b is Block {
  if (b === null || typeof b !== "object") return false;
  const o = b as Record<string, unknown>;
  return isFixedHex(o.hash, 32) && o.payload instanceof Uint8Array;
}

export function isCertificateShape(c: unknown): c is CommitCertificate {
  if (c === null || typeof c !== "object") return false;
  const o = c as Record<string, unknown>;
  if (!isUint(o.height) || !isUint(o.round, MAX_ROUND) || !isFixedHex(o.blockHash, 32)) return false;
  const sigs = o.signatures;
  if (!Array.isArray(sigs) || sigs.length === 0 || sigs.length > MAX_CERTIFICATE_SIGNATURES) return false;
  for (const s of sigs as unknown[]) {
    if (s === null || typeof s !== "object") return false;
    const x = s as Record<string, unknown>;
    if (!isFixedHex(x.validator, 20) || !isFixedHex(x.signature, 64)) return false;
  }
  return true;
}

/** Whether a message has every field a consensus message needs, of the right type and size. */
export function isMessageShape(m: unknown): m is ConsensusMessage {
  if (m === null || typeof m !== "object") return false;
  const o = m as Record<string, unknown>;
  switch (o.type) {
    case "vote":
      return isVoteShape(o.vote);
    case "proposal":
      return (
        isProposalShape(o.proposal) &&
        isBlockShape(o.block) &&
        (o.block as Block).hash.toLowerCase() === (o.proposal as Proposal).blockHash.toLowerCase()
      );
    case "certificate":
      return isCertificateShape(o.certificate);
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------
// RLP items: building and reading.

export type Item = Uint8Array | Item[];

export function hexItem(v: Hex): Uint8Array {
  return hexToBytes(v);
}

/** Canonical big-endian unsigned integer (0 is the empty string). */
export function intItem(n: number): Uint8Array {
  if (!isUint(n)) bad(`integer out of range: ${String(n)}`);
  if (n === 0) return new Uint8Array(0);
  const out: number[] = [];
  let x = n;
  while (x > 0) {
    out.unshift(x % 256);
    x = Math.floor(x / 256);
  }
  return Uint8Array.from(out);
}

export function readInt(item: Item | undefined, max: number, what: string): number {
  if (!(item instanceof Uint8Array)) return bad(`${what}: not a string`);
  if (item.length === 0) return 0;
  if (item[0] === 0) bad(`${what}: non-canonical integer`);
  if (item.length > 7) bad(`${what}: integer too long`);
  let n = 0;
  for (const b of item) n = n * 256 + b;
  if (n > max) bad(`${what}: out of range`);
  return n;
}

export function readFixed(item: Item | undefined, len: 20 | 32 | 64, what: string): Hex {
  if (!(item instanceof Uint8Array) || item.length !== len) return bad(`${what}: expected ${len} bytes`);
  return bytesToHex(item);
}

export function readBytes(item: Item | undefined, max: number, what: string): Uint8Array {
  if (!(item instanceof Uint8Array) || item.length > max) return bad(`${what}: bytes expected`);
  return item;
}

export function readList(item: Item | undefined, len: number | undefined, what: string): Item[] {
  if (!Array.isArray(item)) return bad(`${what}: list expected`);
  if (len !== undefined && item.length !== len) bad(`${what}: expected ${len} items, got ${item.length}`);
  return item;
}

/** RLP decode of a whole buffer (no trailing bytes), errors as CONSENSUS_BAD_MESSAGE. */
export function decodeRlp(bytes: Uint8Array, maxBytes: number, what: string): Item {
  if (!(bytes instanceof Uint8Array)) bad(`${what}: bytes expected`);
  if (bytes.length > maxBytes) bad(`${what}: too large (${bytes.length} > ${maxBytes} bytes)`);
  if (bytes.length === 0) bad(`${what}: empty`);
  try {
    // A plain view: decoded strings are then plain Uint8Array copies (a Buffer's would be
    // views that keep the whole input alive and compare unlike Uint8Arrays).
    return RLP.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)) as Item;
  } catch (err) {
    // Deep nesting can exhaust the stack: that is bad input too.
    return bad(`${what}: not RLP (${err instanceof Error ? err.message : "?"})`);
  }
}

// ---------------------------------------------------------------------------------------
// Fields of each message (also used by the WAL's records).

export function voteFields(v: Vote): Item[] {
  if (!isVoteShape(v)) bad("vote");
  return [
    intItem(v.type),
    intItem(v.height),
    intItem(v.round),
    v.blockHash === null ? new Uint8Array(0) : hexItem(v.blockHash),
    hexItem(v.validator),
    hexItem(v.signature),
  ];
}

export function readVote(f: Item[], at: number): Vote {
  const type = readInt(f[at], 2, "vote type");
  if (type !== 1 && type !== 2) bad("vote type");
  const hash = f[at + 3];
  return {
    type,
    height: readInt(f[at + 1], Number.MAX_SAFE_INTEGER, "vote height"),
    round: readInt(f[at + 2], MAX_ROUND, "vote round"),
    blockHash:
      hash instanceof Uint8Array && hash.length === 0 ? null : readFixed(hash, 32, "vote block hash"),
    validator: readFixed(f[at + 4], 20, "vote validator"),
    signature: readFixed(f[at + 5], 64, "vote signature"),
  };
}
const VOTE_FIELDS = 6;

export function proposalFields(p: Proposal, block: Block): Item[] {
  if (!isMessageShape({ type: "proposal", proposal: p, block })) bad("proposal");
  return [
    intItem(p.height),
    intItem(p.round),
    intItem(p.polRound + 1),
    hexItem(p.blockHash),
    hexItem(p.proposer),
    hexItem(p.signature),
    block.payload,
  ];
}

export function readProposal(f: Item[], at: number): { proposal: Proposal; block: Block } {
  const round = readInt(f[at + 1], MAX_ROUND, "proposal round");
  const polRound = readInt(f[at + 2], MAX_ROUND, "pol round") - 1;
  if (polRound >= round) bad("pol round not below the round");
  const blockHash = readFixed(f[at + 3], 32, "proposal block hash");
  const proposal: Proposal = {
    height: readInt(f[at], Number.MAX_SAFE_INTEGER, "proposal height"),
    round,
    polRound,
    blockHash,
    proposer: readFixed(f[at + 4], 20, "proposer"),
    signature: readFixed(f[at + 5], 64, "proposal signature"),
  };
  return { proposal, block: { hash: blockHash, payload: readBytes(f[at + 6], Infinity, "payload") } };
}
const PROPOSAL_FIELDS = 7;

export function certificateFields(c: CommitCertificate): Item[] {
  if (!isCertificateShape(c)) bad("certificate");
  return [
    intItem(c.height),
    intItem(c.round),
    hexItem(c.blockHash),
    c.signatures.map((s) => [hexItem(s.validator), hexItem(s.signature)]),
  ];
}

export function readCertificate(f: Item[], at: number): CommitCertificate {
  const sigs = readList(f[at + 3], undefined, "certificate signatures");
  if (sigs.length === 0 || sigs.length > MAX_CERTIFICATE_SIGNATURES) bad("certificate signature count");
  return {
    height: readInt(f[at], Number.MAX_SAFE_INTEGER, "certificate height"),
    round: readInt(f[at + 1], MAX_ROUND, "certificate round"),
    blockHash: readFixed(f[at + 2], 32, "certificate block hash"),
    signatures: sigs.map((s) => {
      const pair = readList(s, 2, "certificate signature");
      return {
        validator: readFixed(pair[0], 20, "certificate validator"),
        signature: readFixed(pair[1], 64, "certificate signature"),
      };
    }),
  };
}
const CERTIFICATE_FIELDS = 4;

// ---------------------------------------------------------------------------------------
// Consensus messages (gossip).

export function encodeConsensusMessage(msg: ConsensusMessage): Uint8Array {
  switch (msg.type) {
    case "vote":
      return RLP.encode([intItem(MessageKind.Vote), ...voteFields(msg.vote)]);
    case "proposal":
      return RLP.encode([intItem(MessageKind.Proposal), ...proposalFields(msg.proposal, msg.block)]);
    case "certificate":
      return RLP.encode([intItem(MessageKind.Certificate), ...certificateFields(msg.certificate)]);
    default:
      return bad("unknown message type");
  }
}

/**
 * Decodes an inbound message strictly (it came from the network). Signatures are checked
 * later, against the validator set of the message's height.
 */
export function decodeConsensusMessage(
  bytes: Uint8Array,
  maxBytes = MAX_CONSENSUS_MESSAGE_BYTES,
): ConsensusMessage {
  const top = readList(decodeRlp(bytes, maxBytes, "message"), undefined, "message");
  const kind = readInt(top[0], 255, "message kind");
  switch (kind) {
    case MessageKind.Vote:
      readList(top, 1 + VOTE_FIELDS, "vote");
      return { type: "vote", vote: readVote(top, 1) };
    case MessageKind.Proposal: {
      readList(top, 1 + PROPOSAL_FIELDS, "proposal");
      return { type: "proposal", ...readProposal(top, 1) };
    }
    case MessageKind.Certificate:
      readList(top, 1 + CERTIFICATE_FIELDS, "certificate");
      return { type: "certificate", certificate: readCertificate(top, 1) };
    default:
      return bad("unknown message kind");
  }
}

// ---------------------------------------------------------------------------------------
// Commit certificates on their own (stored beside each block).

export function encodeCertificate(cert: CommitCertificate): Uint8Array {
  return RLP.encode(certificateFields(cert));
}

/**
 * Decodes a stored or fetched certificate strictly. Also reads the JSON form chain stores
 * written before ADR 0054 (`encodeJson(cert)`, first byte `{`), checked to the same shape.
 */
export function decodeCertificate(bytes: Uint8Array): CommitCertificate {
  if (bytes instanceof Uint8Array && bytes[0] === 0x7b) return decodeLegacyCertificate(bytes);
  const f = readList(
    decodeRlp(bytes, MAX_CERTIFICATE_BYTES, "certificate"),
    CERTIFICATE_FIELDS,
    "certificate",
  );
  return readCertificate(f, 0);
}

function decodeLegacyCertificate(bytes: Uint8Array): CommitCertificate {
  if (bytes.length > MAX_LEGACY_CERTIFICATE_BYTES) bad("certificate: too large");
  let c: unknown;
  try {
    c = decodeJson(legacyText.decode(bytes));
  } catch {
    return bad("certificate: not JSON");
  }
  if (!hasExactKeys(c, ["height", "round", "blockHash", "signatures"])) bad("certificate: fields");
  const sigs = (c as { signatures: unknown }).signatures;
  if (!Array.isArray(sigs) || !sigs.every((s) => hasExactKeys(s, ["validator", "signature"])))
    bad("certificate: signature fields");
  if (!isCertificateShape(c)) bad("certificate");
  // Normalised through the binary form: lower-case hex, plain objects, nothing else kept.
  return readCertificate(certificateFields(c), 0);
}

function hasExactKeys(v: unknown, keys: readonly string[]): boolean {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const own = Object.keys(v);
  return own.length === keys.length && keys.every((k) => own.includes(k));
}

// ---------------------------------------------------------------------------------------
// The JSON form of ADR 0052: no longer written by this package; read for old WALs and chain
// stores, and kept for packages that still call it.

const legacyText = new TextDecoder("utf-8", { fatal: true });

/**
 * JSON with byte arrays as `{"$bytes": "0x.."}` and bigints as `{"$bigint": ".."}` (ADR 0052).
 * Superseded by the binary forms above (ADR 0054); kept so that old data stays readable.
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

export function decodeLegacyText(bytes: Uint8Array): string {
  return legacyText.decode(bytes);
}
