import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { encodeFrame, encodeVarint } from "../src/frames.ts";
import { P2pHost } from "../src/host.ts";
import {
  BlocksByRangeProtocol,
  MAX_BLOCKS_PER_REQUEST,
  type ProtocolSpec,
  protocolId,
  ResultCode,
} from "../src/protocols.ts";
import { ResponseError } from "../src/reqresp.ts";
import { encodeBlocksByRangeRequest } from "../src/wire.ts";
import {
  arraySource,
  fastOptions,
  GENESIS,
  makeBlocks,
  newKey,
  startNet,
  type TestNet,
  waitFor,
  waitMesh,
} from "./helpers.ts";

async function readAll(stream: AsyncIterable<Uint8Array | { subarray(): Uint8Array }>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c instanceof Uint8Array ? c : c.subarray());
  return Buffer.concat(parts);
}

describe("protocols between 4 hosts", () => {
  let net: TestNet | undefined;
  const extra: P2pHost[] = [];
  afterEach(async () => {
    await Promise.all(extra.splice(0).map((h) => h.stop()));
    await net?.stopAll();
    net = undefined;
  });

  it("blocks-by-range serves 1,000 items in bounded chunks", async () => {
    const blocks = makeBlocks(1_000);
    const source = arraySource(blocks);
    let head = 1_000n;
    const growing = { ...source, head: () => ({ height: head, hash: new Uint8Array(32).fill(1) }) };
    net = await startNet(4, {
      modules: (i) => (i === 0 ? { blocks: growing } : {}),
      over: () => ({ statusIntervalMs: 300 }),
    });
    await waitMesh(net.hosts);
    const [server, client] = net.hosts as [P2pHost, P2pHost];
    // status carries the head, and the peer table follows it as it moves
    expect((await client.status(server.peerId)).headHeight).toBe(1_000n);
    expect(client.peer(server.peerId)?.headHeight).toBe(1_000n);
    head = 1_010n;
    const moved = await client.events.waitFor("p2p.peer.head");
    expect(moved).toEqual({ peerId: server.peerId, headHeight: 1_010n });
    expect(client.peer(server.peerId)?.headHeight).toBe(1_010n);
    head = 1_000n;

    const got = [];
    for await (const b of client.blocksByRange(server.peerId, 1n, 1_000)) got.push(b);
    expect(got.length).toBe(1_000);
    got.forEach((b, i) => {
      const want = blocks[i];
      expect(b.height).toBe(want?.height);
      expect(Buffer.from(b.block).equals(Buffer.from(want?.block as Uint8Array))).toBe(true);
      expect(Buffer.from(b.certificate).equals(Buffer.from(want?.certificate as Uint8Array))).toBe(true);
    });
    // bounded: every request the server answered asked for at most the cap
    expect(source.calls.length).toBe(Math.ceil(1_000 / MAX_BLOCKS_PER_REQUEST));
    for (const c of source.calls) expect(c.count).toBeLessThanOrEqual(MAX_BLOCKS_PER_REQUEST);

    // a request over the cap is refused as invalid, not served
    const err = await client
      .request(server.peerId, BlocksByRangeProtocol, { from: 1n, count: 1_000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseError);
    expect((err as ResponseError).resultCode).toBe(ResultCode.InvalidRequest);

    // past the head the peer answers nothing and the walk stops
    const tail = [];
    for await (const b of client.blocksByRange(server.peerId, 990n, 50)) tail.push(b.height);
    expect(tail).toEqual(Array.from({ length: 11 }, (_, i) => 990n + BigInt(i)));
  }, 90_000);

  it("a peer with a different chain id or genesis is refused", async () => {
    net = await startNet(4);
    await waitMesh(net.hosts);
    const a = net.hosts[0] as P2pHost;
    const target = [a.multiaddrs()[0] as string];
    const refusedByA: { peerId: string; reason: string }[] = [];
    a.events.on("p2p.peer.refused", (e) => {
      refusedByA.push(e);
    });

    const otherChain = await P2pHost.create(fastOptions(newKey(), { chainId: 902n, staticPeers: target }));
    const otherGenesis = await P2pHost.create(
      fastOptions(newKey(), { genesisHash: new Uint8Array(32).fill(8), staticPeers: target }),
    );
    extra.push(otherChain, otherGenesis);
    const refusedByOther: string[] = [];
    otherChain.events.on("p2p.peer.refused", (e) => {
      refusedByOther.push(e.reason);
    });
    await otherChain.start();
    await otherGenesis.start();

    await waitFor(() => refusedByA.length === 2, 10_000, "both refused by a");
    expect(refusedByA.find((r) => r.peerId === otherChain.peerId)?.reason).toBe("chain_id");
    expect(refusedByA.find((r) => r.peerId === otherGenesis.peerId)?.reason).toBe("genesis");
    await waitFor(() => refusedByOther.length > 0, 5_000, "the other side refuses too");
    expect(refusedByOther[0]).toBe("chain_id");
    // they stay out: their redials are turned away, and they never became ready
    await new Promise((r) => setTimeout(r, 600));
    expect(a.peer(otherChain.peerId)).toBeUndefined();
    expect(a.peer(otherGenesis.peerId)).toBeUndefined();
    expect(a.readyPeers().length).toBe(3);
    expect(GENESIS.length).toBe(32);
  }, 30_000);

  it("oversized and garbage frames are refused without crashing the host", async () => {
    const blocks = makeBlocks(10);
    net = await startNet(4, {
      modules: (i) => (i === 0 ? { blocks: arraySource(blocks) } : {}),
      over: (i) => (i === 3 ? { topicLimits: { vote: 1024 * 1024 } } : { maxPenalties: 6 }),
    });
    const [a, b, c, d] = net.hosts as [P2pHost, P2pHost, P2pHost, P2pHost];
    const votes: number[] = [];
    for (const h of [a, b, c])
      h.subscribe("vote", { decode: (x) => x, onMessage: (m) => votes.push(m.length) });
    d.subscribe("vote", { decode: (x) => x, onMessage: () => undefined });
    await waitMesh(net.hosts, ["vote"]);
    const proto = protocolId(BlocksByRangeProtocol);

    // 1. raw TCP garbage at the listener: the upgrade fails, the host lives
    const port = Number(/\/tcp\/(\d+)/.exec(a.multiaddrs()[0] as string)?.[1]);
    await new Promise<void>((resolve) => {
      const sock = connect(port, "127.0.0.1", () => {
        sock.write(Buffer.alloc(64 * 1024, 0xab));
      });
      sock.on("error", () => resolve());
      sock.on("close", () => resolve());
      setTimeout(() => sock.destroy(), 1_000).unref();
    });

    // 2. a length prefix far over the limit: the stream is aborted after a few bytes
    const s1 = await b.libp2p.dialProtocol(a.libp2p.peerId, proto);
    s1.send(encodeVarint(100 * 1024 * 1024));
    s1.send(new Uint8Array(1024));
    await expect(readAll(s1)).rejects.toThrow();

    // 3. a varint that never ends
    const s2 = await b.libp2p.dialProtocol(a.libp2p.peerId, proto);
    s2.send(new Uint8Array(8).fill(0xff));
    await expect(readAll(s2)).rejects.toThrow();

    // 4. a well-framed request that is not RLP: answered "invalid request"
    const s3 = await b.libp2p.dialProtocol(a.libp2p.peerId, proto);
    s3.send(encodeFrame(Uint8Array.of(0xc5, 0x01)));
    await s3.close();
    const answer = await readAll(s3);
    expect(answer[1]).toBe(ResultCode.InvalidRequest);

    // 5. an oversized gossip message (d allows itself 1 MiB votes; the others 16 KiB)
    await d.publish("vote", new Uint8Array(20_000).fill(1));
    const rejects = async (): Promise<number> =>
      ((await net?.metrics[0]?.values("dseq_p2p_gossip_rejects_total")) ?? [])
        .filter((v) => v.labels.reason === "too_large")
        .reduce((n, v) => n + v.value, 0);
    const until = Date.now() + 5_000;
    while ((await rejects()) < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(await rejects()).toBe(1);
    expect(votes).toEqual([]);

    // the host is alive and serves honest requests
    const served = [];
    for await (const blk of b.blocksByRange(a.peerId, 1n, 10)) served.push(blk.height);
    expect(served.length).toBe(10);
    const inbound = await net.metrics[0]?.values("dseq_p2p_requests_in_total");
    const byResult = Object.fromEntries(
      (inbound ?? []).map((v) => [`${v.labels.protocol}/${v.labels.result}`, v.value]),
    );
    expect(byResult["blocks_by_range/bad_frame"]).toBe(2);
    expect(byResult["blocks_by_range/invalid_request"]).toBe(1);
    expect(byResult["blocks_by_range/ok"]).toBe(1);

    // 6. a peer that keeps sending garbage reaches the penalty limit and is banned
    const banned = a.events.waitFor("p2p.peer.banned");
    for (let i = 0; i < 6 && a.peer(b.peerId); i++) {
      const s = await b.libp2p.dialProtocol(a.libp2p.peerId, proto).catch(() => undefined);
      if (!s) break;
      s.send(encodeFrame(encodeBlocksByRangeRequest({ from: 1n, count: 0 }).subarray(0, 2)));
      await s.close().catch(() => undefined);
      await readAll(s).catch(() => undefined);
    }
    const ban = await banned;
    expect(ban.peerId).toBe(b.peerId);
    expect(ban.reason).toBe("penalties");
    await waitFor(() => a.peer(b.peerId) === undefined, 5_000, "b disconnected");
  }, 30_000);

  it("requests time out on both sides: a silent handler, and a client that never sends", async () => {
    net = await startNet(4);
    await waitMesh(net.hosts);
    const [a, b] = net.hosts as [P2pHost, P2pHost];
    const Echo: ProtocolSpec<Uint8Array, Uint8Array> = {
      name: "echo_test",
      version: 1,
      maxRequestBytes: 64,
      maxResponseChunkBytes: 64,
      maxResponseChunks: 1,
      timeoutMs: 400,
      encodeRequest: (x) => x,
      decodeRequest: (x) => x,
      encodeResponse: (x) => x,
      decodeResponse: (x) => x,
    };
    let sawAbort = false;
    await a.handle(Echo, async (req, ctx) => {
      if (req[0] === 1) return [req];
      // never answers; the server's own timeout aborts it
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener("abort", () => {
          sawAbort = true;
          resolve();
        }),
      );
      return [];
    });
    expect((await b.request(a.peerId, Echo, Uint8Array.of(1, 2))).map((x) => [...x])).toEqual([[1, 2]]);
    const started = Date.now();
    const err = await b.request(a.peerId, Echo, Uint8Array.of(2)).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe("TIMEOUT");
    expect(Date.now() - started).toBeLessThan(5_000);
    await waitFor(() => sawAbort, 2_000, "server handler aborted");

    // a client that opens the stream and sends nothing is cut off by the server's timeout
    const s = await b.libp2p.dialProtocol(a.libp2p.peerId, protocolId(Echo));
    await expect(readAll(s)).rejects.toThrow();
    const inbound = await net.metrics[0]?.values("dseq_p2p_requests_in_total");
    const timeouts = (inbound ?? []).filter(
      (v) => v.labels.protocol === "echo_test" && v.labels.result === "timeout",
    );
    expect(timeouts.reduce((n, v) => n + v.value, 0)).toBeGreaterThanOrEqual(2);
    // and the host keeps serving
    expect((await b.request(a.peerId, Echo, Uint8Array.of(1))).map((x) => [...x])).toEqual([[1]]);
  }, 30_000);
});
