import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRpcServer } from "../src/index.ts";
import { openL2Backend } from "../test/helpers/l2Backend.ts";
import { VIEW_ADDRESS, VIEW_CODE } from "./benchChain.ts";

const l2 = await openL2Backend({
  dataDir: await mkdtemp(join(tmpdir(), "p-")),
  chainConfig: {
    chainId: 902,
    alloc: { [VIEW_ADDRESS]: { balance: 0n, code: VIEW_CODE, storage: { "0x00": "0x2a" } } },
  },
});
let t = performance.now();
for (let i = 0; i < 200; i++) await l2.chain.call({ to: VIEW_ADDRESS }, 0n);
console.log("l2-exec call ms", (performance.now() - t) / 200);
const s = createRpcServer({ http: false, ws: false }, { backend: l2.backend });
t = performance.now();
const body = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "eth_call",
  params: [{ to: VIEW_ADDRESS }, "latest"],
});
for (let i = 0; i < 200; i++) await s.handle(body);
console.log("rpc in-process call ms", (performance.now() - t) / 200, await s.handle(body));
t = performance.now();
const b2 = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] });
for (let i = 0; i < 2000; i++) await s.handle(b2);
console.log("rpc blockNumber ms", (performance.now() - t) / 2000);
await l2.close();
