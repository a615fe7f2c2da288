import { RLP } from "@ethereumjs/rlp";
import {
  bad,
  certificateFields,
  decodeJson,
  decodeLegacyText,
  decodeRlp,
  hexItem,
  type Item,
  intItem,
  isBlockShape,
  isFixedHex,
  isUint,
  MAX_ROUND,
  proposalFields,
  readBytes,
  readCertificate,
  readFixed,
  readInt,
  readList,
  readProposal,
  readVote,
  voteFields,
} from "./codec.ts";
import type { ConsensusInput } from "./consensusCore.ts";

/**
 * One WAL record. `input`: something the state machine is about to act on, at `height`
 * (the node's own signed messages are inputs too). `endHeight`: the height is committed
 * by the application; nothing before it is needed again.
 */
export type WalRecord =
  | { readonly kind: "input"; readonly height: number; readonly input: ConsensusInput }
  | { readonly kind: "endHeight"; readonly height: number };

/**
 * A record whose frame was intact (its checksum matched) but whose body does not decode: an
 * older or buggy writer. Reading goes on past it; the driver logs it and skips it.
 */
export type UndecodableWalRecord = {
  readonly kind: "undecodable";
  readonly offset: number;
  readonly reason: string;
};

/** What reading a WAL yields. */
export type WalEntry = WalRecord | UndecodableWalRecord;

/*
 * Record body (ADR 0054): one byte, the record kind (which is also the format version), then
 * RLP. Bodies of the JSON format before it start with `{` (0x7b) and are still read.
 *
 *   0x01 input      [height, inputKind, [fields...]]
 *   0x02 endHeight  [height]
 *
 * input kinds and fields:
 *   0 start       []
 *   1 proposal    the proposal message's fields (see codec.ts)
 *   2 vote        the vote message's fields
 *   3 certificate the certificate's fields
 *   4 timeout     [height, round, step]
 *   5 valueReady  [height, round, blockHash, payload]
 *   6 validated   [height, blockHash, valid 0/1, [reason] or [], [round] or []]
 *   7 block       [height, blockHash, payload]
 */
export const WalKind = { Input: 0x01, EndHeight: 0x02 } as const;
const InputKind = {
  start: 0,
  proposal: 1,
  vote: 2,
  certificate: 3,
  timeout: 4,
  valueReady: 5,
  validated: 6,
  block: 7,
} as const;
const LEGACY_JSON = 0x7b;
/** A validation reason is for people: kept short. */
const MAX_REASON_CHARS = 256;
const MAX_REASON_BYTES = 1024;
const MAX_H = Number.MAX_SAFE_INTEGER;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

function inputFields(input: ConsensusInput): Item[] {
  switch (input.type) {
    case "start":
      return [];
    case "proposal":
      return proposalFields(input.proposal, input.block);
    case "vote":
      return voteFields(input.vote);
    case "certificate":
      return certificateFields(input.certificate);
    case "timeout":
      if (input.step !== 1 && input.step !== 2 && input.step !== 3) bad("timeout step");
      return [intItem(input.height), intItem(input.round), intItem(input.step)];
    case "valueReady":
      if (!isBlockShape(input.block)) bad("valueReady block");
      return [intItem(input.height), intItem(input.round), hexItem(input.block.hash), input.block.payload];
    case "validated": {
      if (!isFixedHex(input.blockHash, 32) || typeof input.valid !== "boolean") bad("validated");
      if (input.round !== undefined && !isUint(input.round, MAX_ROUND)) bad("validated round");
      return [
        intItem(input.height),
        hexItem(input.blockHash),
        intItem(input.valid ? 1 : 0),
        input.reason === undefined ? [] : [utf8.encode(String(input.reason).slice(0, MAX_REASON_CHARS))],
        input.round === undefined ? [] : [intItem(input.round)],
      ];
    }
    case "block":
      if (!isBlockShape(input.block)) bad("block");
      return [intItem(input.height), hexItem(input.block.hash), input.block.payload];
    default:
      return bad("unknown input type");
  }
}

function readInput(kind: number, f: Item[]): ConsensusInput {
  switch (kind) {
    case InputKind.start:
      readList(f, 0, "start");
      return { type: "start" };
    case InputKind.proposal:
      readList(f, 7, "proposal");
      return { type: "proposal", ...readProposal(f, 0) };
    case InputKind.vote:
      readList(f, 6, "vote");
      return { type: "vote", vote: readVote(f, 0) };
    case InputKind.certificate:
      readList(f, 4, "certificate");
      return { type: "certificate", certificate: readCertificate(f, 0) };
    case InputKind.timeout: {
      readList(f, 3, "timeout");
      const step = readInt(f[2], 3, "timeout step");
      if (step !== 1 && step !== 2 && step !== 3) bad("timeout step");
      return {
        type: "timeout",
        height: readInt(f[0], MAX_H, "height"),
        round: readInt(f[1], MAX_ROUND, "round"),
        step,
      };
    }
    case InputKind.valueReady:
      readList(f, 4, "valueReady");
      return {
        type: "valueReady",
        height: readInt(f[0], MAX_H, "height"),
        round: readInt(f[1], MAX_ROUND, "round"),
        block: { hash: readFixed(f[2], 32, "hash"), payload: readBytes(f[3], Infinity, "payload") },
      };
    case InputKind.validated: {
      readList(f, 5, "validated");
      const valid = readInt(f[2], 1, "valid") === 1;
      const reasonList = readList(f[3], undefined, "reason");
      const roundList = readList(f[4], undefined, "round");
      if (reasonList.length > 1 || roundList.length > 1) bad("validated options");
      const out: {
        type: "validated";
        height: number;
        blockHash: `0x${string}`;
        valid: boolean;
        reason?: string;
        round?: number;
      } = {
        type: "validated",
        height: readInt(f[0], MAX_H, "height"),
        blockHash: readFixed(f[1], 32, "hash"),
        valid,
      };
      if (reasonList.length === 1) {
        try {
          out.reason = utf8Strict.decode(readBytes(reasonList[0], MAX_REASON_BYTES, "reason"));
        } catch (err) {
          if (err instanceof TypeError) bad("reason: not UTF-8");
          throw err;
        }
      }
      if (roundList.length === 1) out.round = readInt(roundList[0], MAX_ROUND, "round");
      return out;
    }
    case InputKind.block:
      readList(f, 3, "block");
      return {
        type: "block",
        height: readInt(f[0], MAX_H, "height"),
        block: { hash: readFixed(f[1], 32, "hash"), payload: readBytes(f[2], Infinity, "payload") },
      };
    default:
      return bad("unknown input kind");
  }
}

export function encodeWalBody(record: WalRecord): Uint8Array {
  if (!isUint(record.height)) bad("record height");
  let kind: number;
  let rlp: Uint8Array;
  if (record.kind === "endHeight") {
    kind = WalKind.EndHeight;
    rlp = RLP.encode([intItem(record.height)]);
  } else if (record.kind === "input") {
    kind = WalKind.Input;
    const ik = InputKind[record.input.type as keyof typeof InputKind];
    if (ik === undefined) bad("unknown input type");
    rlp = RLP.encode([intItem(record.height), intItem(ik), inputFields(record.input)]);
  } else {
    return bad("unknown record kind");
  }
  const out = new Uint8Array(1 + rlp.length);
  out[0] = kind;
  out.set(rlp, 1);
  return out;
}

/** Decodes one record body strictly; the legacy JSON body is checked to the same shapes. */
export function decodeWalBody(body: Uint8Array, maxBytes: number): WalRecord {
  if (body.length === 0) bad("empty WAL record");
  if (body[0] === LEGACY_JSON) return decodeLegacyBody(body);
  const rest = body.subarray(1);
  switch (body[0]) {
    case WalKind.EndHeight: {
      const f = readList(decodeRlp(rest, maxBytes, "WAL record"), 1, "endHeight");
      return { kind: "endHeight", height: readInt(f[0], MAX_H, "height") };
    }
    case WalKind.Input: {
      const f = readList(decodeRlp(rest, maxBytes, "WAL record"), 3, "input record");
      const height = readInt(f[0], MAX_H, "height");
      const kind = readInt(f[1], 255, "input kind");
      return { kind: "input", height, input: readInput(kind, readList(f[2], undefined, "input fields")) };
    }
    default:
      return bad(`unknown WAL record kind ${body[0]}`);
  }
}

/** ADR 0052's JSON records: parsed, then run through the binary form, so they are as strict. */
function decodeLegacyBody(body: Uint8Array): WalRecord {
  let rec: WalRecord;
  try {
    rec = decodeJson<WalRecord>(decodeLegacyText(body));
  } catch {
    return bad("WAL record: not JSON");
  }
  if (rec === null || typeof rec !== "object") bad("WAL record: not an object");
  const bin = encodeWalBody(rec);
  return decodeWalBody(bin, Infinity);
}
