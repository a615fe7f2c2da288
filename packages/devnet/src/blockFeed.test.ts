import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { bytesToHex } from "@dseq/common";
import { encodeBlockExtra } from "@dseq/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BlockLine, blockToLine, followBlocks } from "./blockFeed.ts";
import type { RpcBlock } from "./jsonRpc.ts";

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
