import { randomBytes } from "node:crypto";
import { bytesToHex, createMetrics, createNoopLogger, type Metrics } from "@dseq/common";
import {
  BlocksByRangeProtocol,
  type BlockWithCertificate,
  decodeBlocksByRangeRequest,
  encodeBlockWithCertificate,
  encodeFrame,
  FrameDecoder,
  P2pHost,
  protocolId,
  ResultCode,
  sequencerKeyToPeerId,
} from "@dseq/p2p";
import { encodeJson } from "@dseq/pos-consensus";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { p2pBlockFetcher } from "./chainSync.ts";

const CHAIN_ID = 901n;
const GENESIS = new Uint8Array(32).fill(7);
const HEAD = 40;
const enc = new TextEncoder();

function certificateBytes(height: number | bigint, blockHash = bytesToHex(randomBytes(32))): Uint8Array {
  return enc.encode(
    encodeJson({
      height: Number(height),
      round: 0,
      blockHash,
      signatures: [{ validator: bytesToHex(randomBytes(20)), signature: bytesToHex(randomBytes(64)) }],
    }),
  );
}

/** The honest chain: heights 1..HEAD, each block with a well-formed certificate. */
const chain: BlockWithCertificate[] = Array.from({ length: HEAD }, (_, i) => ({
  height: BigInt(i + 1),
  block: randomBytes(200),
  certificate: certificateBytes(i + 1),
}));

const poisons = {
  garbageCertificate: (h: bigint) => [{ height: h, block: randomBytes(200), certificate: randomBytes(96) }],
  emptySignatureJson: (h: bigint) => [
    { height: h, block: randomBytes(200), certificate: enc.encode('{"signatures":[{}]}') },
  ],
  signatureOfEmptyObject: (h: bigint) => {
    const c = JSON.parse(new TextDecoder().decode(certificateBytes(h)));
    c.signatures = [{}];
    return [{ height: h, block: randomBytes(200), certificate: enc.encode(JSON.stringify(c)) }];
  },
  wrongHeights: (h: bigint) => [
    { height: h + 1n, block: randomBytes(200), certificate: certificateBytes(h + 1n) },
  ],
  certificateForAnotherHeight: (h: bigint) => [
    { height: h, block: randomBytes(200), certificate: certificateBytes(h + 7n) },
  ],
  emptyBlock: (h: bigint) => [{ height: h, block: new Uint8Array(0), certificate: certificateBytes(h) }],
  // over maxBlockBytes (2 MiB) yet inside p2p's frame limit, so it reaches the fetcher's check
  blockOverLimit: (h: bigint) => [
    { height: h, block: randomBytes(2 * 1024 * 1024 + 10), certificate: certificateBytes(h) },
  ],
  // a frame far over the budget: refused by p2p on its length prefix
  oversizedFrame: (h: bigint) => [
    { height: h, block: randomBytes(8 * 1024 * 1024), certificate: certificateBytes(h) },
  ],
  tooMany: (h: bigint, count: number) =>
    Array.from({ length: count + 1 }, (_, i) => ({
      height: h + BigInt(i),
      block: randomBytes(100),
      certificate: certificateBytes(h + BigInt(i)),
    })),
} satisfies Record<string, (h: bigint, count: number) => BlockWithCertificate[]>;
type Mode = keyof typeof poisons | "stall";

/** The penalty reason each poison must earn (p2p's own for what its frame checks catch). */
const expectedReason: Record<keyof typeof poisons, string> = {
  garbageCertificate: "sync_bad_certificate",
  emptySignatureJson: "sync_bad_certificate",
  signatureOfEmptyObject: "sync_bad_certificate",
  wrongHeights: "sync_bad_height",
  certificateForAnotherHeight: "sync_certificate_height",
  emptyBlock: "sync_bad_block",
  blockOverLimit: "sync_bad_block",
  oversizedFrame: "blocks_by_range_bad_response",
  tooMany: "blocks_by_range_bad_response",
};

function fastOptions(key: Uint8Array, staticPeers: string[] = []) {
  return {
    privateKey: key,
    chainId: CHAIN_ID,
    genesisHash: GENESIS,
    listen: ["/ip4/127.0.0.1/tcp/0"],
    staticPeers,
    reconnect: { initialDelayMs: 100, maxDelayMs: 800, factor: 2 },
    dialTimeoutMs: 2_000,
    maxPenalties: 1_000,
    gossip: { heartbeatIntervalMs: 100 },
  };
}

/** Two keys whose peer ids sort evil-first, so a fresh fetcher asks the evil peer first. */
function keysEvilFirst(): { evil: Uint8Array; good: Uint8Array } {
  for (;;) {
    const a = randomBytes(32);
    const b = randomBytes(32);
    const [pa, pb] = [sequencerKeyToPeerId(a).toString(), sequencerKeyToPeerId(b).toString()];
    if (pa < pb) return { evil: a, good: b };
    if (pb < pa) return { evil: b, good: a };
  }
}

async function send(stream: { send(b: Uint8Array): boolean; onDrain(): Promise<void> }, b: Uint8Array) {
  if (!stream.send(b)) await stream.onDrain();
}

async function penaltiesByReason(m: Metrics): Promise<Record<string, number>> {
  const values = await m.values("dseq_p2p_peer_penalties_total");
  return Object.fromEntries(values.map((v) => [String(v.labels.reason), v.value]));
}

describe("p2pBlockFetcher against a poisoning peer and an honest one", () => {
  let good: P2pHost;
  let evil: P2pHost;
  let client: P2pHost;
  let clientMetrics: Metrics;
  let mode: Mode = "garbageCertificate";
  const evilRequests: bigint[] = [];
  const goodRequests: { from: bigint; count: number }[] = [];

  beforeAll(async () => {
    const keys = keysEvilFirst();
    good = await P2pHost.create(fastOptions(keys.good), {
      blocks: {
        head: () => ({ height: BigInt(HEAD), hash: new Uint8Array(32).fill(1) }),
        getRange(from, count) {
          goodRequests.push({ from, count });
          return chain.slice(Number(from) - 1, Number(from) - 1 + count);
        },
      },
    });
    // The evil peer claims a head of 2^62 at the handshake and answers with raw frames, past
    // every check its own host would make.
    evil = await P2pHost.create(fastOptions(keys.evil), {
      blocks: { head: () => ({ height: 2n ** 62n, hash: new Uint8Array(32).fill(2) }), getRange: () => [] },
    });
    await good.start();
    await evil.start();
    await evil.unhandle(BlocksByRangeProtocol);
    await evil.libp2p.handle(protocolId(BlocksByRangeProtocol), async (stream) => {
      try {
        const decoder = new FrameDecoder(64);
        let req: { from: bigint; count: number } | undefined;
        for await (const chunk of stream) {
          const [frame] = decoder.push(chunk);
          if (frame) {
            req = decodeBlocksByRangeRequest(frame);
            break;
          }
        }
        if (!req) return;
        evilRequests.push(req.from);
        if (mode === "stall") {
          await new Promise<void>((resolve) => stream.addEventListener("close", () => resolve()));
          return;
        }
        for (const item of poisons[mode](req.from, req.count)) {
          await send(
            stream,
            encodeFrame(Buffer.concat([Uint8Array.of(ResultCode.Success), encodeBlockWithCertificate(item)])),
          );
        }
        await stream.close();
      } catch {
        stream.abort(new Error("evil peer gave up"));
      }
    });
    clientMetrics = createMetrics();
    client = await P2pHost.create(
      fastOptions(randomBytes(32), [good.multiaddrs()[0] as string, evil.multiaddrs()[0] as string]),
      {
        metrics: clientMetrics,
      },
    );
    await client.start();
    const until = Date.now() + 15_000;
    while (client.readyPeers().length < 2) {
      if (Date.now() > until) throw new Error("client never saw both peers ready");
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(client.peer(evil.peerId)?.headHeight).toBe(2n ** 62n);
  }, 30_000);

  afterAll(async () => {
    await Promise.all([client?.stop(), good?.stop(), evil?.stop()]);
  });

  for (const name of Object.keys(poisons) as (keyof typeof poisons)[]) {
    it(`${name}: the honest answer is returned and the poisoner penalized`, async () => {
      mode = name;
      const fetcher = p2pBlockFetcher(client, createNoopLogger(), { batch: 4, timeoutMs: 3_000 });
      const before = client.penaltyCount(evil.peerId);
      const reasonsBefore = await penaltiesByReason(clientMetrics);
      const asked = evilRequests.length;

      const got = await fetcher.fetchCommitted(5, AbortSignal.timeout(20_000));
      // the evil peer was asked first (its id sorts first and it claims the larger head) ...
      expect(evilRequests.length).toBe(asked + 1);
      // ... and the answer is the honest one
      expect(got?.source).toBe(good.peerId);
      expect(got?.certificate.height).toBe(5);
      expect(Buffer.from(got?.block.payload ?? []).equals(Buffer.from(chain[4]?.block ?? []))).toBe(true);
      expect(client.penaltyCount(evil.peerId)).toBe(before + 1);
      expect(client.penaltyCount(good.peerId)).toBe(0);
      const reasons = await penaltiesByReason(clientMetrics);
      const reason = expectedReason[name];
      expect((reasons[reason] ?? 0) - (reasonsBefore[reason] ?? 0)).toBe(1);
      expect(fetcher.peerRecord(evil.peerId)?.failures.length).toBe(1);

      // The next height beyond the answer goes to the honest peer first: the bad one is not first again.
      const next = await fetcher.fetchCommitted(9, AbortSignal.timeout(20_000));
      expect(next?.source).toBe(good.peerId);
      expect(evilRequests.length).toBe(asked + 1);
    }, 30_000);
  }

  it("blocks fetched ahead are used only in order from one answer, and dropped when the driver refuses their source", async () => {
    mode = "garbageCertificate";
    const fetcher = p2pBlockFetcher(client, createNoopLogger(), { batch: 4, timeoutMs: 3_000 });
    // evil first, refused; good answers 10..13
    expect((await fetcher.fetchCommitted(10, AbortSignal.timeout(20_000)))?.source).toBe(good.peerId);
    const served = goodRequests.length;
    // 11 comes from the same answer, with no request
    expect((await fetcher.fetchCommitted(11, AbortSignal.timeout(20_000)))?.certificate.height).toBe(11);
    expect(goodRequests.length).toBe(served);
    // skipping 12: 13 is not taken from the old answer, it is asked again
    expect((await fetcher.fetchCommitted(13, AbortSignal.timeout(20_000)))?.certificate.height).toBe(13);
    expect(goodRequests.length).toBe(served + 1);
    expect(goodRequests.at(-1)?.from).toBe(13n);
    // the driver says 13's certificate does not verify: its source is penalized, its blocks dropped
    fetcher.penalize(good.peerId, "certificate does not verify against the validator set");
    expect(client.penaltyCount(good.peerId)).toBe(1);
    expect((await penaltiesByReason(clientMetrics)).sync_rejected_by_consensus).toBe(1);
    expect(fetcher.peerRecord(good.peerId)?.proven).toBe(0);
    await fetcher.fetchCommitted(14, AbortSignal.timeout(20_000));
    expect(goodRequests.length).toBe(served + 2);
    expect(goodRequests.at(-1)?.from).toBe(14n);
  }, 30_000);

  it("repeated bad answers get the poisoner banned, and a banned peer is not asked", async () => {
    mode = "emptySignatureJson";
    const strict = await P2pHost.create(
      {
        ...fastOptions(randomBytes(32), [good.multiaddrs()[0] as string, evil.multiaddrs()[0] as string]),
        maxPenalties: 3,
      },
      {},
    );
    try {
      await strict.start();
      const until = Date.now() + 15_000;
      while (strict.readyPeers().length < 2) {
        if (Date.now() > until) throw new Error("strict client never saw both peers ready");
        await new Promise((r) => setTimeout(r, 20));
      }
      const banned = strict.events.waitFor("p2p.peer.banned");
      // a fresh fetcher asks the evil peer first each time (no failure memory yet)
      for (const h of [1, 5, 9]) {
        const got = await p2pBlockFetcher(strict, createNoopLogger(), { batch: 4 }).fetchCommitted(
          h,
          AbortSignal.timeout(20_000),
        );
        expect(got?.source).toBe(good.peerId);
      }
      expect((await banned).peerId).toBe(evil.peerId);
      expect(strict.isBanned(evil.peerId)).toBe(true);
      const asked = evilRequests.length;
      const got = await p2pBlockFetcher(strict, createNoopLogger(), { batch: 4 }).fetchCommitted(
        13,
        AbortSignal.timeout(20_000),
      );
      expect(got?.source).toBe(good.peerId);
      expect(evilRequests.length).toBe(asked);
    } finally {
      await strict.stop();
    }
  }, 30_000);

  it("a peer claiming head 2^62 that never answers costs one timeout, not one per height", async () => {
    mode = "stall";
    const fetcher = p2pBlockFetcher(client, createNoopLogger(), { batch: 1, timeoutMs: 700 });
    const asked = evilRequests.length;
    const started = Date.now();
    for (let h = 20; h < 26; h++) {
      const got = await fetcher.fetchCommitted(h, AbortSignal.timeout(20_000));
      expect(got?.source).toBe(good.peerId);
      expect(got?.certificate.height).toBe(h);
    }
    // one stalled request (the first, the evil id sorts first), then the honest peer that proved progress
    expect(evilRequests.length - asked).toBe(1);
    expect(Date.now() - started).toBeLessThan(6 * 700);
  }, 30_000);
});
