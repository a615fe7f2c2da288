/** eth_subscribe semantics and the small node methods, on the FAKE in-memory chain. */
import { EventBus, type Hex } from "@dseq/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createRpcServer, type RpcEventMap, type RpcServer } from "../src/index.ts";
import { keccakHex, MemoryChain } from "./helpers/memoryChain.ts";
import { rpc } from "./helpers/rpcClient.ts";

const A: Hex = "0x00000000000000000000000000000000000000aa";
const B: Hex = "0x00000000000000000000000000000000000000bb";

type Msg = {
  id?: number;
  result?: unknown;
  error?: { code: number };
  method?: string;
  params?: { subscription: string; result: Record<string, unknown> };
};

async function open(url: string): Promise<{
  ws: WebSocket;
  msgs: Msg[];
  call(id: number, method: string, params: unknown[]): Promise<Msg>;
}> {
  const ws = new WebSocket(url);
  await new Promise((r) => ws.once("open", r));
  const msgs: Msg[] = [];
  ws.on("message", (m) => msgs.push(JSON.parse(m.toString()) as Msg));
  return {
    ws,
    msgs,
    async call(id, method, params) {
      ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
      await expect.poll(() => msgs.some((m) => m.id === id)).toBe(true);
      return msgs.find((m) => m.id === id) as Msg;
    },
  };
}

describe("subscriptions and node methods (fake chain)", () => {
  const chain = new MemoryChain();
  const events = new EventBus<RpcEventMap>({ name: "subs-test" });
  let server: RpcServer;

  beforeAll(async () => {
    server = createRpcServer(
      {
        http: { host: "127.0.0.1", port: 0 },
        ws: { host: "127.0.0.1", port: 0 },
        clientVersion: "dseq/test",
      },
      { backend: { chain, events, peerCount: () => 3 } },
    );
    await server.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  it("newHeads delivers every block between two events, in order; logs filter by address", async () => {
    const c = await open(server.wsUrl as string);
    const heads = (await c.call(1, "eth_subscribe", ["newHeads"])).result as string;
    const logs = (await c.call(2, "eth_subscribe", ["logs", { address: B }])).result as string;
    expect(heads).toMatch(/^0x[0-9a-f]+$/);
    const b1 = chain.addBlock([
      { from: A, to: B, logs: [{ address: A, topics: [keccakHex("x")], data: "0x" }] },
    ]);
    const b2 = chain.addBlock([
      { from: A, to: B, logs: [{ address: B, topics: [keccakHex("y")], data: "0x01" }] },
    ]);
    const b3 = chain.addBlock([]);
    // One event for three commits: all three heads still arrive.
    events.emit("chain.head", { number: b3.header.number, hash: b3.header.hash });
    await server.subscriptions.idle();
    await expect.poll(() => c.msgs.filter((m) => m.params?.subscription === heads).length).toBe(3);
    const got = c.msgs.filter((m) => m.params?.subscription === heads).map((m) => m.params?.result.hash);
    expect(got).toEqual([b1.header.hash, b2.header.hash, b3.header.hash]);
    const logMsgs = c.msgs.filter((m) => m.params?.subscription === logs);
    expect(logMsgs.map((m) => m.params?.result.data)).toEqual(["0x01"]);
    expect(logMsgs[0]?.params?.result).toMatchObject({
      address: B,
      blockHash: b2.header.hash,
      removed: false,
    });

    // Another session cannot cancel this one's subscription; the owner can.
    const other = await open(server.wsUrl as string);
    expect((await other.call(1, "eth_unsubscribe", [heads])).result).toBe(false);
    expect((await c.call(3, "eth_unsubscribe", [heads])).result).toBe(true);
    expect((await c.call(4, "eth_subscribe", ["newHeads", "extra"])).error).toBeUndefined();
    expect((await c.call(5, "eth_subscribe", ["logs", { fromBlock: "0x1" }])).error?.code).toBe(-32602);
    const before = server.subscriptions.size;
    c.ws.close();
    await expect.poll(() => server.subscriptions.size).toBe(before - 2);
    other.ws.close();
  });

  it("net, web3, syncing and fee methods", async () => {
    const url = server.httpUrl as string;
    expect((await rpc(url, "web3_sha3", ["0x68656c6c6f"])).result).toBe(keccakHex("hello"));
    expect((await rpc(url, "web3_clientVersion")).result).toBe("dseq/test");
    expect((await rpc(url, "net_version")).result).toBe("1337");
    expect((await rpc(url, "net_listening")).result).toBe(true);
    expect((await rpc(url, "net_peerCount")).result).toBe("0x3");
    expect((await rpc(url, "eth_syncing")).result).toBe(false);
    // Recent blocks carry tips of 1e6 wei (the fake chain's transactions): that is the suggestion.
    expect((await rpc(url, "eth_maxPriorityFeePerGas")).result).toBe("0xf4240");
    expect((await rpc(url, "eth_gasPrice")).result).toBe(`0x${(1_000_000_000n + 1_000_000n).toString(16)}`);
  });
});
