import { bytesToUtf8, TimeoutError, utf8ToBytes } from "@dseq/common";
import type { Stream } from "@libp2p/interface";
import { P2pError, P2pErrorCode } from "./errors.ts";
import { encodeFrame, FrameError, readFrames, writeEncoded, writeFrame } from "./frames.ts";
import { type ProtocolSpec, protocolBudget, type ResponseBudget, ResultCode } from "./protocols.ts";

/** Thrown by a handler to answer with a specific result code; any other throw is a server error. */
export class RequestError extends P2pError {
  readonly resultCode: ResultCode;
  constructor(resultCode: ResultCode, message: string) {
    super(P2pErrorCode.RequestError, message, { details: { resultCode } });
    this.name = "RequestError";
    this.resultCode = resultCode;
  }
}

/** The remote answered with a non-success result. */
export class ResponseError extends P2pError {
  readonly resultCode: number;
  constructor(protocol: string, resultCode: number, message: string) {
    super(P2pErrorCode.ResponseError, `${protocol}: remote answered ${resultCode}: ${message}`, {
      details: { protocol, resultCode, remoteMessage: message },
    });
    this.name = "ResponseError";
    this.resultCode = resultCode;
  }
}

export type RequestContext = {
  /** Remote peer id. */
  peer: string;
  /** Validator address of the remote peer when it is in the validator set. */
  validator: `0x${string}` | undefined;
  signal: AbortSignal;
};

export type ResponseSource<Resp> = Resp[] | AsyncIterable<Resp>;

export type RequestHandler<Req, Resp> = (
  req: Req,
  ctx: RequestContext,
) => ResponseSource<Resp> | Promise<ResponseSource<Resp>>;

/** Why a served exchange ended, for metrics and peer penalties. */
export type ServeResult = "ok" | "bad_frame" | "invalid_request" | "server_error" | "timeout";

const MAX_ERROR_MESSAGE_BYTES = 256;

function resultFrame(code: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = code;
  out.set(body, 1);
  return out;
}

function errorFrame(code: number, message: string): Uint8Array {
  return resultFrame(code, utf8ToBytes(message).subarray(0, MAX_ERROR_MESSAGE_BYTES));
}

async function readOneFrame(stream: Stream, maxBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  for await (const frame of readFrames(stream, maxBytes, signal)) return frame;
  throw new FrameError(P2pErrorCode.FrameTruncated, "stream closed before the request frame");
}

function isAsyncIterable<T>(x: unknown): x is AsyncIterable<T> {
  return x != null && typeof (x as AsyncIterable<T>)[Symbol.asyncIterator] === "function";
}

/**
 * Serves one inbound exchange: one request frame (size-checked on its length prefix), then
 * response frames, each `[result byte][body]`, then close. Never throws: a bad request is
 * answered (or the stream aborted) and reported in the result. The answer stays within
 * `budget(req)`, the same budget the client enforces: it ends before the first item that would
 * not fit (an answer that cannot hold even one is "unavailable").
 */
export async function serveRequest<Req, Resp>(
  stream: Stream,
  spec: ProtocolSpec<Req, Resp>,
  handler: RequestHandler<Req, Resp>,
  ctx: Omit<RequestContext, "signal">,
  budget: (req: Req) => ResponseBudget = () => protocolBudget(spec),
): Promise<ServeResult> {
  const signal = AbortSignal.timeout(spec.timeoutMs);
  let reqBytes: Uint8Array;
  try {
    reqBytes = await readOneFrame(stream, spec.maxRequestBytes, signal);
  } catch (err) {
    stream.abort(err as Error);
    return signal.aborted ? "timeout" : "bad_frame";
  }
  let req: Req;
  try {
    req = spec.decodeRequest(reqBytes);
  } catch (err) {
    await finish(stream, errorFrame(ResultCode.InvalidRequest, (err as Error).message), signal);
    return "invalid_request";
  }
  try {
    const limit = budget(req);
    const source = await handler(req, { ...ctx, signal });
    if (signal.aborted) throw signal.reason;
    let n = 0;
    let total = 0;
    const iter = isAsyncIterable<Resp>(source) ? source : (source as Resp[]);
    for await (const resp of iter) {
      if (n >= Math.min(spec.maxResponseChunks, limit.maxChunks)) break;
      const body = spec.encodeResponse(resp);
      const frame = encodeFrame(resultFrame(ResultCode.Success, body));
      if (
        body.length > Math.min(spec.maxResponseChunkBytes, limit.maxChunkBytes) ||
        total + frame.length > limit.maxTotalBytes
      ) {
        if (n === 0)
          throw new RequestError(ResultCode.ResourceUnavailable, "item exceeds the response size limit");
        break;
      }
      await writeEncoded(stream, frame, signal);
      total += frame.length;
      n++;
    }
    await stream.close({ signal });
    return "ok";
  } catch (err) {
    if (signal.aborted) {
      stream.abort(new TimeoutError(`serving ${spec.name}`, spec.timeoutMs));
      return "timeout";
    }
    const code = err instanceof RequestError ? err.resultCode : ResultCode.ServerError;
    const message = err instanceof RequestError ? err.message : "internal error";
    await finish(stream, errorFrame(code, message), signal);
    return code === ResultCode.InvalidRequest ? "invalid_request" : "server_error";
  }
}

async function finish(stream: Stream, frame: Uint8Array, signal: AbortSignal): Promise<void> {
  try {
    await writeFrame(stream, frame, signal);
    await stream.close({ signal });
  } catch (err) {
    stream.abort(err as Error);
  }
}

/**
 * Runs one outbound exchange on an opened stream and returns the decoded responses. Throws
 * TimeoutError, ResponseError, FrameError or DecodeError; the stream is closed either way.
 * The answer must fit `budget` (chunks, bytes per chunk, bytes in all), checked frame by frame
 * as it arrives: a peer sending more costs us at most the budget, then the exchange fails.
 */
export async function runRequest<Req, Resp>(
  stream: Stream,
  spec: ProtocolSpec<Req, Resp>,
  req: Req,
  signal: AbortSignal,
  timeoutSignal: AbortSignal,
  budget: ResponseBudget = protocolBudget(spec),
): Promise<Resp[]> {
  try {
    const body = spec.encodeRequest(req);
    if (body.length > spec.maxRequestBytes) {
      throw new P2pError(P2pErrorCode.RequestTooLarge, `${spec.name} request exceeds the protocol limit`, {
        details: { bytes: body.length, limit: spec.maxRequestBytes },
      });
    }
    const maxChunks = Math.min(spec.maxResponseChunks, budget.maxChunks);
    const maxFrameBytes =
      Math.max(MAX_ERROR_MESSAGE_BYTES, Math.min(spec.maxResponseChunkBytes, budget.maxChunkBytes)) + 1;
    // An error frame must always fit, even in the budget of an answer that may hold nothing.
    const maxTotalBytes = Math.max(budget.maxTotalBytes, MAX_ERROR_MESSAGE_BYTES + 1 + 5);
    const frames = readFrames(stream, maxFrameBytes, signal, maxTotalBytes);
    await writeFrame(stream, body, signal);
    // Half-close: the remote sees the end of our request; our read side stays open.
    const closing = stream.close({ signal }).catch(() => undefined);
    const out: Resp[] = [];
    for await (const frame of frames) {
      const code = frame[0];
      if (code === undefined) throw new FrameError(P2pErrorCode.FrameMalformed, "empty response frame");
      if (code !== ResultCode.Success) {
        throw new ResponseError(spec.name, code, bytesToUtf8(frame.subarray(1, 1 + MAX_ERROR_MESSAGE_BYTES)));
      }
      if (out.length >= maxChunks) {
        throw new FrameError(P2pErrorCode.FrameMalformed, "more response chunks than the request allows", {
          limit: maxChunks,
        });
      }
      out.push(spec.decodeResponse(frame.subarray(1)));
    }
    await closing;
    return out;
  } catch (err) {
    stream.abort(err as Error);
    if (timeoutSignal.aborted) throw new TimeoutError(`${spec.name} request`, spec.timeoutMs);
    throw err;
  }
}
