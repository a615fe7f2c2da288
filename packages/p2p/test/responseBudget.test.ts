import { randomBytes } from "node:crypto";
import type { Stream } from "@libp2p/interface";
import { afterEach, describe, expect, it } from "vitest";
import { encodeFrame, readFrames } from "../src/frames.ts";
import type { P2pHost } from "../src/host.ts";
import { BlocksByRangeProtocol, protocolId, ResultCode } from "../src/protocols.ts";
import { ResponseError } from "../src/reqresp.ts";
import { decodeBlocksByRangeRequest, encodeBlockWithCertificate } from "../src/wire.ts";
import { arraySource, startNet, type TestNet, waitMesh } from "./helpers.ts";

const LIMITS = { maxBlockBytes: 64 * 1024, maxCertificateBytes: 4 * 1024 };

function okFrame(body: Uint8Array): Uint8Array {
  return encodeFrame(Buffer.concat([Uint8Array.of(ResultCode.Success), body]));
}

function item(height: bigint, blockBytes: number): Uint8Array {
  return encodeBlockWithCertificate({ height, block: randomBytes(blockBytes), certificate: randomBytes(96) });
}

async function send(stream: Stream, bytes: Uint8Array): Promise<void> {
  if (!stream.send(bytes)) await stream.onDrain();
}

/**
 * A peer that ignores the budget: it answers blocks-by-range with raw frames chosen by `from`.
 * It passes the status handshake like any host; only its blocks-by-range handler lies.
 */
async function serveLies(evil: P2pHost): Promise<void> {
  await evil.libp2p.handle(protocolId(BlocksByRangeProtocol), async (stream) => {
    try {
      let req: { from: bigint; count: number } | undefined;
      for await (const f of readFrames(stream, 64)) {
        req = decodeBlocksByRangeRequest(f);
        break;
      }
      if (!req) return;
      if (req.from === 1n) {
        // one item more than asked
        for (let i = 0; i <= req.count; i++) await send(stream, okFrame(item(1n + BigInt(i), 100)));
      } else if (req.from === 2n) {
        // one item of 4 MiB: within the protocol's old 16 MiB ceiling, far over what was asked
        await send(stream, okFrame(item(2n, 4 * 1024 * 1024)));
      } else if (req.from === 3n) {
        // `count` items of the largest allowed size, then one more: its prefix passes the budget
        const largest = (h: bigint) =>
          encodeBlockWithCertificate({
            height: h,
            block: randomBytes(LIMITS.maxBlockBytes),
            certificate: randomBytes(LIMITS.maxCertificateBytes),
          });
        for (let i = 0; i <= req.count; i++) await send(stream, okFrame(largest(3n + BigInt(i))));
      }
      await stream.close();
    } catch {
      stream.abort(new Error("evil peer gave up"));
    }
  });
}

describe("blocks-by-range answers are bounded by what was asked", () => {
  let net: TestNet | undefined;
  afterEach(async () => {
    await net?.stopAll();
    net = undefined;
  });

  it("a peer answering more than asked is cut off while reading, penalized, and the request fails", async () => {
    net = await startNet(2, { over: () => ({ ...LIMITS }) });
    await waitMesh(net.hosts);
    const [evil, client] = net.hosts as [P2pHost, P2pHost];
    await serveLies(evil);
    const ask = (from: bigint, count: number) =>
      client.request(evil.peerId, BlocksByRangeProtocol, { from, count }).then(
        () => "answered",
        (e: unknown) => (e as { code?: string }).code,
      );

    expect(await ask(1n, 2)).toBe("P2P_FRAME_MALFORMED"); // 3 items for 2
    expect(client.penaltyCount(evil.peerId)).toBe(1);
    expect(await ask(2n, 1)).toBe("P2P_FRAME_TOO_LARGE"); // refused on its length prefix
    expect(client.penaltyCount(evil.peerId)).toBe(2);
    expect(await ask(3n, 2)).toBe("P2P_RESPONSE_TOO_LARGE"); // the third prefix passes the budget
    expect(client.penaltyCount(evil.peerId)).toBe(3);
    const bad = ((await net.metrics[1]?.values("dseq_p2p_peer_penalties_total")) ?? []).find(
      (v) => v.labels.reason === "blocks_by_range_bad_response",
    );
    expect(bad?.value).toBe(3);
  }, 30_000);

  it("a server never answers more than the budget of the request", async () => {
    const sizes = [1_000, 1_000, 100_000, 1_000];
    const blocks = sizes.map((n, i) => ({
      height: BigInt(i + 1),
      block: randomBytes(n),
      certificate: randomBytes(96),
    }));
    net = await startNet(2, {
      over: () => ({ ...LIMITS }),
      modules: (i) => (i === 0 ? { blocks: arraySource(blocks) } : {}),
    });
    await waitMesh(net.hosts);
    const [server, client] = net.hosts as [P2pHost, P2pHost];
    const got = await client.request(server.peerId, BlocksByRangeProtocol, { from: 1n, count: 4 });
    // the 100 kB block does not fit a 64 KiB limit: the answer ends before it
    expect(got.map((b) => b.height)).toEqual([1n, 2n]);
    const err = await client
      .request(server.peerId, BlocksByRangeProtocol, { from: 3n, count: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseError);
    expect((err as ResponseError).resultCode).toBe(ResultCode.ResourceUnavailable);
    // an honest server is not penalized for that
    expect(client.penaltyCount(server.peerId)).toBe(0);
  }, 30_000);
});
