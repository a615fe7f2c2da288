import { DseqError, type DseqErrorOptions } from "@dseq/common";

/**
 * Stable codes of every error this package throws (`DseqError.code`); callers match on these,
 * never on message text. Subclasses: `FrameError`, `DecodeError`, `RequestError`, `ResponseError`.
 */
export const P2pErrorCode = {
  /** A second handler for a topic kind. */
  AlreadySubscribed: "P2P_ALREADY_SUBSCRIBED",
  /** Options or a peer multiaddr that cannot work; thrown at create time. */
  BadConfig: "P2P_BAD_CONFIG",
  /** A sequencer key that is not 32 raw secp256k1 bytes. */
  BadKey: "P2P_BAD_KEY",
  /** A peer's answer broke the protocol (too many blocks, out of order). */
  BadResponse: "P2P_BAD_RESPONSE",
  /** Bytes that are not a valid wire message (`DecodeError`). */
  Decode: "P2P_DECODE",
  /** A stream to the peer could not be opened. */
  Dial: "P2P_DIAL",
  /** A length prefix that is not a valid varint (`FrameError`). */
  FrameMalformed: "P2P_FRAME_MALFORMED",
  /** A frame over the protocol's limit (`FrameError`). */
  FrameTooLarge: "P2P_FRAME_TOO_LARGE",
  /** The stream ended inside a frame (`FrameError`). */
  FrameTruncated: "P2P_FRAME_TRUNCATED",
  /** The status handshake got no answer. */
  Handshake: "P2P_HANDSHAKE",
  /** A gossip message over its topic's limit. */
  MessageTooLarge: "P2P_MESSAGE_TOO_LARGE",
  /** The peer was banned while a call waited on it. */
  PeerBanned: "P2P_PEER_BANNED",
  /** The peer disconnected while a call waited on it. */
  PeerGone: "P2P_PEER_GONE",
  /** The peer is not connected or has not passed the status handshake. */
  PeerNotReady: "P2P_PEER_NOT_READY",
  /** The peer failed the status handshake (other chain, no answer). */
  PeerRefused: "P2P_PEER_REFUSED",
  /** The self-throttling publish queue is full. */
  PublishQueueFull: "P2P_PUBLISH_QUEUE_FULL",
  /** Thrown by a handler to answer with a result code (`RequestError`). */
  RequestError: "P2P_REQUEST_ERROR",
  /** An outbound request over the protocol's limit. */
  RequestTooLarge: "P2P_REQUEST_TOO_LARGE",
  /** The remote answered with a non-success result (`ResponseError`). */
  ResponseError: "P2P_RESPONSE_ERROR",
  /** An answer over its response budget (`FrameError`). */
  ResponseTooLarge: "P2P_RESPONSE_TOO_LARGE",
  /** The host is stopped (or was, and cannot start again). */
  Stopped: "P2P_STOPPED",
} as const;
export type P2pErrorCode = (typeof P2pErrorCode)[keyof typeof P2pErrorCode];

export class P2pError extends DseqError {
  override readonly code: P2pErrorCode;
  constructor(code: P2pErrorCode, message: string, opts: DseqErrorOptions = {}) {
    super(code, message, opts);
    this.name = "P2pError";
    this.code = code;
  }
}
