import type { MessageStream } from "@libp2p/interface";
import { Uint8ArrayList } from "uint8arraylist";
import { P2pError, P2pErrorCode } from "./errors.ts";

/**
 * Length-prefixed frames: an unsigned LEB128 varint length, then that many bytes. Lengths are
 * checked against the limit as soon as the prefix is read, before any body is buffered, so an
 * oversized frame costs the receiver a few bytes, not memory.
 */

/** Longest varint we accept: 5 bytes cover lengths up to 2^35, far beyond any limit we use. */
const MAX_VARINT_BYTES = 5;

export function encodeVarint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`bad varint ${n}`);
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

export function encodeFrame(payload: Uint8Array): Uint8Array {
  const prefix = encodeVarint(payload.length);
  const out = new Uint8Array(prefix.length + payload.length);
  out.set(prefix, 0);
  out.set(payload, prefix.length);
  return out;
}

export class FrameError extends P2pError {
  constructor(
    code:
      | typeof P2pErrorCode.FrameTooLarge
      | typeof P2pErrorCode.FrameMalformed
      | typeof P2pErrorCode.FrameTruncated
      | typeof P2pErrorCode.ResponseTooLarge,
    message: string,
    details = {},
  ) {
    super(code, message, { details });
    this.name = "FrameError";
  }
}

/**
 * Parses frames out of a byte buffer as data arrives. `push` returns the complete frames;
 * throws FrameError on a malformed or oversized length prefix. `maxTotalBytes` bounds the whole
 * exchange (prefixes included): a prefix that would take the total past it is refused as soon
 * as it is read, so a peer cannot make us buffer more than we asked for, frame by frame.
 */
export class FrameDecoder {
  private readonly buf = new Uint8ArrayList();
  private readonly maxFrameBytes: number;
  private readonly maxTotalBytes: number;
  private pendingLength = -1;
  private total = 0;

  constructor(maxFrameBytes: number, maxTotalBytes = Number.POSITIVE_INFINITY) {
    this.maxFrameBytes = maxFrameBytes;
    this.maxTotalBytes = maxTotalBytes;
  }

  /** Bytes of whole frames and length prefixes taken so far. */
  get consumed(): number {
    return this.total;
  }

  /** Bytes buffered that do not yet make a whole frame. */
  get buffered(): number {
    return this.buf.byteLength;
  }

  push(chunk: Uint8Array | Uint8ArrayList): Uint8Array[] {
    this.buf.append(chunk);
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.pendingLength < 0) {
        const len = this.readLength();
        if (len === undefined) break;
        this.pendingLength = len;
      }
      if (this.buf.byteLength < this.pendingLength) break;
      frames.push(this.buf.subarray(0, this.pendingLength));
      this.buf.consume(this.pendingLength);
      this.pendingLength = -1;
    }
    return frames;
  }

  /** Call at end of stream: throws when a frame was cut short. */
  end(): void {
    if (this.buf.byteLength > 0 || this.pendingLength >= 0) {
      throw new FrameError(P2pErrorCode.FrameTruncated, "stream ended inside a frame", {
        buffered: this.buf.byteLength,
      });
    }
  }

  private readLength(): number | undefined {
    let value = 0;
    let mul = 1;
    const n = Math.min(this.buf.byteLength, MAX_VARINT_BYTES);
    for (let i = 0; i < n; i++) {
      const b = this.buf.get(i);
      value += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) {
        if (i > 0 && b === 0) throw new FrameError(P2pErrorCode.FrameMalformed, "non-minimal length prefix");
        if (value > this.maxFrameBytes) {
          throw new FrameError(P2pErrorCode.FrameTooLarge, "frame exceeds the size limit", {
            length: value,
            limit: this.maxFrameBytes,
          });
        }
        if (this.total + i + 1 + value > this.maxTotalBytes) {
          throw new FrameError(P2pErrorCode.ResponseTooLarge, "frames exceed the exchange's byte budget", {
            length: value,
            consumed: this.total,
            limit: this.maxTotalBytes,
          });
        }
        this.total += i + 1 + value;
        this.buf.consume(i + 1);
        return value;
      }
      mul *= 0x80;
    }
    if (this.buf.byteLength >= MAX_VARINT_BYTES) {
      throw new FrameError(P2pErrorCode.FrameMalformed, "length prefix too long");
    }
    return undefined;
  }
}

/**
 * Reads frames from a libp2p stream until the remote closes its write side. Aborting `signal`
 * aborts the stream (a timeout is an abort). Any frame error aborts the stream too, so the
 * remote cannot keep a half-parsed exchange open.
 */
export async function* readFrames(
  stream: MessageStream,
  maxFrameBytes: number,
  signal?: AbortSignal,
  maxTotalBytes?: number,
): AsyncGenerator<Uint8Array> {
  const decoder = new FrameDecoder(maxFrameBytes, maxTotalBytes);
  const onAbort = (): void => stream.abort(signal?.reason ?? new Error("aborted"));
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const chunk of stream) {
      let frames: Uint8Array[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        stream.abort(err as Error);
        throw err;
      }
      for (const f of frames) yield f;
    }
    if (signal?.aborted) throw signal.reason;
    decoder.end();
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}

/** Sends one frame, waiting for the stream to drain when its buffer is full. */
export async function writeFrame(
  stream: MessageStream,
  payload: Uint8Array,
  signal?: AbortSignal,
): Promise<void> {
  await writeEncoded(stream, encodeFrame(payload), signal);
}

/** Sends an already encoded frame (see `encodeFrame`). */
export async function writeEncoded(
  stream: MessageStream,
  frame: Uint8Array,
  signal?: AbortSignal,
): Promise<void> {
  if (!stream.send(frame)) await stream.onDrain({ signal });
}
