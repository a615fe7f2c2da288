/**
 * getLogs limits and filter semantics on the FAKE in-memory chain (no execution needed):
 * topic/address matching, the block-range and result caps, log filters that only report new
 * blocks, pending-transaction filters fed by txpool events.
 */
import { EventBus, type Hex } from "@dseq/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRpcServer, type RpcEventMap, type RpcServer } from "../src/index.ts";
import { keccakHex, MemoryChain } from "./helpers/memoryChain.ts";
import { rpc } from "./helpers/rpcClient.ts";

const A: Hex = "0x00000000000000000000000000000000000000aa";
const B: Hex = "0x00000000000000000000000000000000000000bb";
const T1 = keccakHex("Transfer");
const T2 = keccakHex("Approval");
const who = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;

describe("logs and filters (fake chain)", () => {
  const chain = new MemoryChain();
  const events = new EventBus<RpcEventMap>({ name: "logs-test" });
  let server: RpcServer;
  let url: string;

  beforeAll(async () => {
    chain.addBlock([{ from: A, to: B, logs: [{ address: A, topics: [T1, who(1)], data: "0x01" }] }]);
    chain.addBlock([
      { from: A, to: B, logs: [{ address: B, topics: [T2, who(2)], data: "0x02" }] },
      {
        from: B,
        to: A,
        logs: [
          { address: A, topics: [T1, who(3)], data: "0x03" },
          { address: A, topics: [T2], data: "0x" },
        ],
      },
    ]);
    server = createRpcServer(
      { http: { host: "127.0.0.1", port: 0 }, ws: false, maxLogsBlockRange: 3, maxLogsResults: 3 },
      { backend: { chain, events } },
    );
    await server.start();
    url = server.httpUrl as string;
  });
  afterAll(async () => {
    await server.stop();
  });

  it("matches address and topic positions, numbering logs block-wide", async () => {
    const r = await rpc(url, "eth_getLogs", [{ fromBlock: "0x0", toBlock: "0x2", address: A, topics: [T1] }]);
    const logs = r.result as {
      data: string;
      logIndex: string;
      blockNumber: string;
      transactionIndex: string;
    }[];
    expect(logs.map((l) => l.data)).toEqual(["0x01", "0x03"]);
    expect(logs[1]).toMatchObject({ logIndex: "0x1", blockNumber: "0x2", transactionIndex: "0x1" });
    const second = await rpc(url, "eth_getLogs", [{ fromBlock: "0x0", topics: [null, [who(2), who(3)]] }]);
    expect((second.result as { data: string }[]).map((l) => l.data)).toEqual(["0x02", "0x03"]);
    const byHash = await rpc(url, "eth_getLogs", [{ blockHash: chain.blocks[2]?.header.hash, topics: [T2] }]);
    expect((byHash.result as unknown[]).length).toBe(2);
  });

  it("caps the block range and the result count", async () => {
    for (let i = 0; i < 3; i++) chain.addBlock([]);
    const range = await rpc(url, "eth_getLogs", [{ fromBlock: "0x0", toBlock: "0x5" }]);
    expect(range.error).toEqual({ code: -32602, message: "exceed maximum block range: 3" });
    const many = await rpc(url, "eth_getLogs", [{ fromBlock: "0x0", toBlock: "0x2" }]);
    expect(many.error).toEqual({ code: -32005, message: "query returned more than 3 results" });
    expect((await rpc(url, "eth_getLogs", [{ fromBlock: "0x4", toBlock: "0x2" }])).error?.message).toBe(
      "invalid block range params",
    );
    expect((await rpc(url, "eth_getLogs", [{ fromBlock: "0x4", toBlock: "0x9" }])).error?.message).toBe(
      "block range extends beyond current head block",
    );
  });

  it("log filters report only logs of blocks committed after they were installed", async () => {
    const id = (await rpc(url, "eth_newFilter", [{ address: A }])).result as string;
    expect((await rpc(url, "eth_getFilterChanges", [id])).result).toEqual([]);
    chain.addBlock([{ from: B, to: A, logs: [{ address: A, topics: [T1], data: "0x09" }] }]);
    chain.addBlock([{ from: B, to: A, logs: [{ address: B, topics: [T1], data: "0x0a" }] }]);
    const changes = (await rpc(url, "eth_getFilterChanges", [id])).result as { data: string }[];
    expect(changes.map((l) => l.data)).toEqual(["0x09"]);
    expect((await rpc(url, "eth_getFilterChanges", [id])).result).toEqual([]);
    expect((await rpc(url, "eth_getFilterChanges", ["0x1234"])).error).toEqual({
      code: -32000,
      message: "filter not found",
    });
  });

  it("pending-transaction filters collect hashes from txpool events", async () => {
    const id = (await rpc(url, "eth_newPendingTransactionFilter")).result as string;
    events.emit("txpool.pending", { hashes: [who(7), who(8)] });
    await new Promise((r) => setTimeout(r, 10));
    expect((await rpc(url, "eth_getFilterChanges", [id])).result).toEqual([who(7), who(8)]);
    expect((await rpc(url, "eth_uninstallFilter", [id])).result).toBe(true);
  });
});
