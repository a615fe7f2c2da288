import {
  type BlocksByRangeRequest,
  type BlockWithCertificate,
  decodeBlocksByRangeRequest,
  decodeBlockWithCertificate,
  decodeStatus,
  encodeBlocksByRangeRequest,
  encodeBlockWithCertificate,
  encodeStatus,
  type Status,
} from "./wire.ts";

/**
 * A request/response protocol: one request frame, then up to `maxResponseChunks` response
 * frames, then the responder closes. Each response frame is a result byte followed by the
 * encoded body (an error message for a non-zero result).
 */
export type ProtocolSpec<Req, Resp> = {
  /** Short name, used in the protocol id `/dseq/req/<name>/<version>` and in metrics. */
  name: string;
  version: number;
  maxRequestBytes: number;
  maxResponseChunkBytes: number;
  maxResponseChunks: number;
  /** Whole exchange, from opening the stream to the last response frame. */
  timeoutMs: number;
  encodeRequest(req: Req): Uint8Array;
  decodeRequest(bytes: Uint8Array): Req;
  encodeResponse(resp: Resp): Uint8Array;
  decodeResponse(bytes: Uint8Array): Resp;
};

/**
 * What one exchange may carry back, enforced by the client while it reads the frames (a prefix
 * that does not fit is refused before its body is buffered) and by the server before it writes.
 * `maxChunkBytes` is one response body; `maxTotalBytes` every frame of the answer, prefixes and
 * result bytes included.
 */
export type ResponseBudget = { maxChunks: number; maxChunkBytes: number; maxTotalBytes: number };

/** Result byte plus the longest length prefix a frame of this size needs. */
const FRAME_OVERHEAD = 1 + 5;

/** The budget a protocol's own limits give: every chunk may be as large as the protocol allows. */
export function protocolBudget(spec: {
  maxResponseChunks: number;
  maxResponseChunkBytes: number;
}): ResponseBudget {
  return {
    maxChunks: spec.maxResponseChunks,
    maxChunkBytes: spec.maxResponseChunkBytes,
    maxTotalBytes: spec.maxResponseChunks * (spec.maxResponseChunkBytes + FRAME_OVERHEAD),
  };
}

/** RLP list prefix, height and the two byte-string prefixes of `[height, block, certificate]`. */
export const BLOCK_ITEM_OVERHEAD = 32;

export type BlockSizeLimits = { maxBlockBytes: number; maxCertificateBytes: number };

/**
 * A blocks-by-range answer is at most `count` items of at most one block, one certificate and
 * their encoding each: `count * (maxBlockBytes + maxCertificateBytes + overhead)` bytes in all.
 */
export function blocksByRangeBudget(count: number, limits: BlockSizeLimits): ResponseBudget {
  const chunks = Math.max(0, Math.min(Math.floor(count), MAX_BLOCKS_PER_REQUEST));
  const maxChunkBytes = limits.maxBlockBytes + limits.maxCertificateBytes + BLOCK_ITEM_OVERHEAD;
  return { maxChunks: chunks, maxChunkBytes, maxTotalBytes: chunks * (maxChunkBytes + FRAME_OVERHEAD) };
}

// biome-ignore lint/suspicious/noExplicitAny: a registry of heterogeneous specs
export type AnyProtocolSpec = ProtocolSpec<any, any>;

export function protocolId(spec: { name: string; version: number }): string {
  return `/dseq/req/${spec.name}/${spec.version}`;
}

export const ResultCode = {
  Success: 0,
  InvalidRequest: 1,
  ServerError: 2,
  ResourceUnavailable: 3,
} as const;
export type ResultCode = (typeof ResultCode)[keyof typeof ResultCode];

/** Status handshake: both sides send theirs; a different chain id or genesis is refused. */
export const StatusProtocol: ProtocolSpec<Status, Status> = {
  name: "status",
  version: 1,
  maxRequestBytes: 256,
  maxResponseChunkBytes: 256,
  maxResponseChunks: 1,
  timeoutMs: 5_000,
  encodeRequest: encodeStatus,
  decodeRequest: decodeStatus,
  encodeResponse: encodeStatus,
  decodeResponse: decodeStatus,
};

/** The most blocks one blocks-by-range request may ask for; clients page through longer ranges. */
export const MAX_BLOCKS_PER_REQUEST = 64;

export const BlocksByRangeProtocol: ProtocolSpec<BlocksByRangeRequest, BlockWithCertificate> = {
  name: "blocks_by_range",
  version: 1,
  maxRequestBytes: 64,
  maxResponseChunkBytes: 16 * 1024 * 1024,
  maxResponseChunks: MAX_BLOCKS_PER_REQUEST,
  timeoutMs: 30_000,
  encodeRequest: encodeBlocksByRangeRequest,
  decodeRequest: decodeBlocksByRangeRequest,
  encodeResponse: encodeBlockWithCertificate,
  decodeResponse: decodeBlockWithCertificate,
};

const identity = (b: Uint8Array): Uint8Array => b;

/**
 * Direct messages between TSS participants (a round's point-to-point shares). The payload is
 * opaque and already encrypted/authenticated by mpc-tss; the response is an empty ack.
 */
export const TssDirectProtocol: ProtocolSpec<Uint8Array, Uint8Array> = {
  name: "tss_direct",
  version: 1,
  maxRequestBytes: 1024 * 1024,
  maxResponseChunkBytes: 64,
  maxResponseChunks: 1,
  timeoutMs: 10_000,
  encodeRequest: identity,
  decodeRequest: identity,
  encodeResponse: identity,
  decodeResponse: identity,
};
