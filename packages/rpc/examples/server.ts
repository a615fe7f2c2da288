/**
 * Runs the JSON-RPC server on any backend that implements the package's small interfaces,
 * here the in-memory ChainReader the transport tests use (a FAKE chain: it executes nothing;
 * the node plugs in l2-exec and the txpool through packages/node/src/rpcBackend.ts), sends a
 * few requests over HTTP and WebSocket, and shuts down. `node packages/rpc/examples/server.ts`
 */
import { EventBus } from "@dseq/common";
import { WebSocket } from "ws";
import { createRpcServer, type RpcEventMap } from "../src/index.ts";
import { MemoryChain } from "../test/helpers/memoryChain.ts";

const chain = new MemoryChain(901n);
chain.balances.set("0x00000000000000000000000000000000000000aa", 10n ** 18n);
const events = new EventBus<RpcEventMap>({ name: "example" });
const server = createRpcServer(
  { http: { host: "127.0.0.1", port: 0 }, ws: { host: "127.0.0.1", port: 0 }, corsOrigins: ["*"] },
  { backend: { chain, events } },
);
await server.start();

async function call(method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(server.httpUrl as string, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return res.json();
}

console.log("eth_chainId", await call("eth_chainId"));
console.log(
  "eth_getBalance",
  await call("eth_getBalance", ["0x00000000000000000000000000000000000000aa", "latest"]),
);
console.log("bad tag", await call("eth_getBlockByNumber", ["lastest", false]));

// newHeads over WebSocket: subscribe, commit a block, receive its header.
const ws = new WebSocket(server.wsUrl as string);
await new Promise((resolve) => ws.once("open", resolve));
const head = new Promise<{ number: string }>((resolve) => {
  ws.on("message", (m) => {
    const msg = JSON.parse(m.toString()) as { method?: string; params?: { result: { number: string } } };
    if (msg.method === "eth_subscription" && msg.params) resolve(msg.params.result);
  });
});
ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newHeads"] }));
await new Promise((r) => setTimeout(r, 50));
const block = chain.addBlock([]);
events.emit("chain.head", { number: block.header.number, hash: block.header.hash });
console.log("newHeads", (await head).number);
ws.close();

await server.stop();
