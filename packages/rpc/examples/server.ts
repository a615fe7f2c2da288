/**
 * Runs the JSON-RPC server on a fresh l2-exec chain with a txpool (through the test adapter,
 * until the node package owns the production one), sends a few requests over HTTP and
 * WebSocket, and shuts down. `node packages/rpc/examples/server.ts`
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";
import { createRpcServer } from "../src/index.ts";
import { openL2Backend } from "../test/helpers/l2Backend.ts";

const dataDir = await mkdtemp(join(tmpdir(), "rpc-example-"));
const l2 = await openL2Backend({
  dataDir,
  chainConfig: {
    chainId: 901,
    alloc: { "0x00000000000000000000000000000000000000aa": { balance: 10n ** 18n } },
  },
});
const server = createRpcServer(
  { http: { host: "127.0.0.1", port: 0 }, ws: { host: "127.0.0.1", port: 0 }, corsOrigins: ["*"] },
  { backend: l2.backend },
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
await l2.mine();
console.log("newHeads", (await head).number);
ws.close();

await server.stop();
await l2.close();
await rm(dataDir, { recursive: true, force: true });
