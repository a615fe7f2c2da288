import { DseqError, type Logger } from "@dseq/common";
import type { Connection, Libp2p, PeerId, Stream } from "@libp2p/interface";
import { P2pError, P2pErrorCode } from "./errors.ts";
import { FrameError } from "./frames.ts";
import type { P2pOptions } from "./options.ts";
import type { P2pMetrics } from "./p2pMetrics.ts";
import type { PeerTable } from "./peerTable.ts";
import {
  BlocksByRangeProtocol,
  blocksByRangeBudget,
  MAX_BLOCKS_PER_REQUEST,
  type ProtocolSpec,
  protocolBudget,
  protocolId,
  type ResponseBudget,
  ResultCode,
  StatusProtocol,
} from "./protocols.ts";
import { RequestError, type RequestHandler, runRequest, serveRequest } from "./reqresp.ts";
import { waitReady } from "./statusHandshake.ts";
import type { BlockSource } from "./types.ts";
import { type BlockWithCertificate, DecodeError } from "./wire.ts";

/* Request/response: serving inbound streams, sending requests, blocks-by-range on both sides. */

export type RequestsContext = {
  readonly opts: Pick<P2pOptions, "maxBlockBytes" | "maxCertificateBytes" | "maxBlocksPerRequest">;
  readonly node: Pick<Libp2p, "dialProtocol">;
  readonly peers: PeerTable;
  readonly log: Logger;
  readonly metrics: P2pMetrics | undefined;
  /** Aborted when the host stops. */
  readonly stopSignal: AbortSignal;
  penalize(peer: PeerId | string, reason: string): void;
};

/**
 * What an answer to `req` may hold. A blocks-by-range answer is bounded by what was asked
 * (`count` blocks of at most `maxBlockBytes`), not by the protocol's 64 x 16 MiB ceiling.
 */
export function responseBudgetFor<Req, Resp>(
  opts: RequestsContext["opts"],
  spec: ProtocolSpec<Req, Resp>,
  req: Req,
): ResponseBudget {
  if (spec.name === BlocksByRangeProtocol.name) {
    const { count } = req as { count: number };
    return blocksByRangeBudget(count, opts);
  }
  return protocolBudget(spec);
}

/** One inbound stream: refused before the status handshake (but status itself), else served. */
export async function serveInbound<Req, Resp>(
  ctx: RequestsContext,
  stream: Stream,
  conn: Connection,
  spec: ProtocolSpec<Req, Resp>,
  handler: RequestHandler<Req, Resp>,
): Promise<void> {
  const peer = conn.remotePeer;
  if (spec !== StatusProtocol && !(await waitReady(ctx.peers, peer))) {
    stream.abort(new P2pError(P2pErrorCode.PeerNotReady, "status handshake not passed"));
    ctx.metrics?.requestsIn.inc({ protocol: spec.name, result: "not_ready" });
    return;
  }
  const result = await serveRequest(
    stream,
    spec,
    handler,
    { peer: peer.toString(), validator: ctx.peers.validatorOf(peer) },
    (req) => responseBudgetFor(ctx.opts, spec, req),
  );
  ctx.metrics?.requestsIn.inc({ protocol: spec.name, result });
  if (result === "bad_frame" || result === "invalid_request") {
    ctx.log.debug("bad request", { peer: peer.toString(), protocol: spec.name, result });
    ctx.penalize(peer, `${spec.name}_${result}`);
  }
}

/** Sends one request without waiting for the peer to be ready; a malformed answer is penalized. */
export async function sendRequest<Req, Resp>(
  ctx: RequestsContext,
  peer: PeerId,
  spec: ProtocolSpec<Req, Resp>,
  req: Req,
  signal?: AbortSignal,
): Promise<Resp[]> {
  const timeout = AbortSignal.timeout(spec.timeoutMs);
  const all = AbortSignal.any([timeout, ctx.stopSignal, ...(signal ? [signal] : [])]);
  const started = performance.now();
  const observe = (result: string): void =>
    ctx.metrics?.requestSeconds.observe((performance.now() - started) / 1000, {
      protocol: spec.name,
      result,
    });
  let stream: Stream;
  try {
    stream = await ctx.node.dialProtocol(peer, protocolId(spec), { signal: all });
  } catch (err) {
    observe("dial_error");
    throw new P2pError(P2pErrorCode.Dial, `cannot open ${spec.name} stream`, {
      cause: err,
      details: { peer: peer.toString() },
    });
  }
  try {
    const out = await runRequest(stream, spec, req, all, timeout, responseBudgetFor(ctx.opts, spec, req));
    observe("ok");
    return out;
  } catch (err) {
    if (err instanceof FrameError || err instanceof DecodeError) {
      observe("bad_response");
      ctx.penalize(peer, `${spec.name}_bad_response`);
    } else {
      observe(err instanceof DseqError ? err.code.toLowerCase() : "error");
    }
    throw err;
  }
}

/**
 * Fetches `count` blocks from `from`, one bounded request (at most MAX_BLOCKS_PER_REQUEST) at a
 * time, checking that heights follow on. Stops early when the peer has no more.
 */
export async function* fetchBlocksByRange(
  ctx: Pick<RequestsContext, "penalize">,
  request: (req: { from: bigint; count: number }) => Promise<BlockWithCertificate[]>,
  peer: PeerId | string,
  from: bigint,
  count: number,
): AsyncGenerator<BlockWithCertificate> {
  let next = from;
  let remaining = count;
  while (remaining > 0) {
    const ask = Math.min(remaining, MAX_BLOCKS_PER_REQUEST);
    const got = await request({ from: next, count: ask });
    if (got.length === 0) return;
    if (got.length > ask) {
      ctx.penalize(peer, "blocks_by_range_too_many");
      throw new P2pError(P2pErrorCode.BadResponse, "blocks-by-range answered more blocks than asked", {
        details: { asked: ask, got: got.length },
      });
    }
    for (const b of got) {
      if (b.height !== next) {
        ctx.penalize(peer, "blocks_by_range_bad_height");
        throw new P2pError(P2pErrorCode.BadResponse, "blocks-by-range answered out of order", {
          details: { expected: next, got: b.height },
        });
      }
      yield b;
      next++;
      remaining--;
    }
  }
}

/** Answers a blocks-by-range request from `source`, at most `maxBlocksPerRequest` blocks. */
export async function serveBlocks(
  opts: Pick<P2pOptions, "maxBlocksPerRequest">,
  source: BlockSource,
  from: bigint,
  count: number,
): Promise<BlockWithCertificate[]> {
  if (count < 1 || count > MAX_BLOCKS_PER_REQUEST) {
    throw new RequestError(ResultCode.InvalidRequest, `count must be 1..${MAX_BLOCKS_PER_REQUEST}`);
  }
  const blocks = await source.getRange(from, Math.min(count, opts.maxBlocksPerRequest));
  return blocks.slice(0, count);
}
