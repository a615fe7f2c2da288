import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { bytesToHex } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { encodeBlockExtra } from "@dseq/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BlockLine, blockToLine, createPreconfTracker, followBlocks, preconfPart } from "./blockFeed.ts";
import type { RpcBlock } from "./jsonRpc.ts";
import { preconfLine, preconfTxHashes } from "./load.ts";

const PROPOSER = "0x1111111111111111111111111111111111111111";

function block(n: number, round: number): RpcBlock {
  return {
    number: `0x${n.toString(16)}`,
    hash: `0x${n.toString(16).padStart(64, "0")}`,
    parentHash: `0x${Math.max(0, n - 1)
      .toString(16)
      .padStart(64, "0")}`,
    timestamp: `0x${(1000 + 2 * n).toString(16)}`,
    miner: PROPOSER,
    extraData: n === 0 ? "0x" : bytesToHex(encodeBlockExtra({ round, proposer: PROPOSER })),
    gasUsed: "0x0",
    transactions: Array.from({ length: n % 3 }, (_, i) => `0x${i.toString(16).padStart(64, "0")}`),
  };
}

describe("blockToLine", () => {
  it("decodes the builder and round from extraData, and the spacing", () => {
    expect(blockToLine(block(5, 2), 1008)).toEqual({
      height: 5,
      hash: block(5, 2).hash,
      txs: 2,
      proposer: PROPOSER,
      round: 2,
      timestamp: 1010,
      spacingS: 2,
    });
    const genesis = blockToLine(block(0, 0), undefined);
    expect(genesis.proposer).toBeUndefined();
    expect(genesis.spacingS).toBeUndefined();
  });
});

// A small JSON-RPC chain served over HTTP: the head grows while the feed runs, and the first
// server goes away to check the feed fails over to the second URL.
describe("followBlocks", () => {
  let head = 3;
  const servers: Server[] = [];
  const urls: string[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const srv = createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          const call = JSON.parse(body) as { id: number; params: [string, boolean] };
          const tag = call.params[0];
          const n = tag === "latest" ? head : Number(tag);
          res.writeHead(200, { "content-type": "application/json" });
          res.end(
            JSON.stringify({ jsonrpc: "2.0", id: call.id, result: n <= head ? block(n, n % 2) : null }),
          );
        });
      });
      await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
      servers.push(srv);
      urls.push(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`);
    }
  });
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  it("reports every new height once, in order, across a dead node", async () => {
    const seen: BlockLine[] = [];
    const live = [...urls];
    const stop = followBlocks(
      () => live,
      (l) => seen.push(l),
      { pollMs: 20 },
    );
    try {
      await new Promise((r) => setTimeout(r, 200));
      head = 6;
      await new Promise((r) => setTimeout(r, 300));
      const first = servers[0] as Server;
      first.closeAllConnections();
      await new Promise<void>((r) => first.close(() => r()));
      head = 9;
      const end = Date.now() + 5000;
      while (seen.length < 6 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    } finally {
      stop();
    }
    expect(seen.map((l) => l.height)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(seen.every((l) => l.spacingS === 2)).toBe(true);
    expect(seen.map((l) => l.round)).toEqual([0, 1, 0, 1, 0, 1]);
  });
});

describe("preconfirmation latency on the block line and in the load report", () => {
  it("a block line shows how many of its txs were preconfirmed and how far ahead (median)", () => {
    const tracker = createPreconfTracker(10);
    const b = block(5, 0); // two transactions
    const [t0, t1] = b.transactions as `0x${string}`[];
    expect(blockToLine(b, 1008, { tracker, seenMs: 5_000 }).preconf).toBeUndefined();
    tracker.seen([t0 as `0x${string}`], 3_000);
    tracker.seen([t1 as `0x${string}`, t0 as `0x${string}`], 4_000); // t0 keeps its first time
    const line = blockToLine(b, 1008, { tracker, seenMs: 5_000 });
    expect(line.preconf).toEqual({ txs: 2, aheadMs: 1_000 });
    expect(preconfPart(line)).toBe("  preconf 2 (1.00 s ahead)");
    expect(preconfPart(blockToLine(b, 1008))).toBe("");
    // Each transaction counts once: the tracker forgets it with its block.
    expect(blockToLine(b, 1008, { tracker, seenMs: 6_000 }).preconf).toBeUndefined();
  });

  it("with pool admissions seen, the block line shows the preconfirmation latency (median)", () => {
    const tracker = createPreconfTracker(10);
    const b = block(5, 0);
    const [t0, t1] = b.transactions as `0x${string}`[];
    tracker.arrived(t0 as `0x${string}`, 2_900);
    tracker.arrived(t1 as `0x${string}`, 3_950);
    tracker.seen([t0 as `0x${string}`], 3_000);
    tracker.seen([t1 as `0x${string}`], 4_000);
    const line = blockToLine(b, 1008, { tracker, seenMs: 5_000 });
    expect(line.preconf).toEqual({ txs: 2, aheadMs: 1_000, latencyMs: 50 });
    expect(preconfPart(line)).toBe("  preconf 2 in 50 ms (1.00 s ahead)");
  });

  it("the load generator names a preconfirmation's txs by hash and ignores malformed entries", () => {
    const raw = "0x02f86b0102";
    const hash = bytesToHex(keccak256(Uint8Array.from([0x02, 0xf8, 0x6b, 0x01, 0x02])));
    expect(preconfTxHashes({ transactions: [raw, "zz", 7, "0x1"] })).toEqual([hash]);
    expect(preconfTxHashes(null)).toEqual([]);
    expect(
      preconfLine({
        preconfirmed: 0,
        preconfirmedCommitted: 0,
        preconfP50Ms: Number.NaN,
        preconfP99Ms: Number.NaN,
      }),
    ).toBe("preconf    -");
    expect(
      preconfLine({ preconfirmed: 10, preconfirmedCommitted: 10, preconfP50Ms: 80.4, preconfP99Ms: 190 }),
    ).toBe("preconf    p50 80 ms  p99 190 ms  10 preconfirmed, 10 of them committed");
  });
});
