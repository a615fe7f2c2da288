import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRpcServer, defaultRpcServerOptions, type RpcServer } from "../src/index.ts";
import { parseDuration, traceConfig } from "../src/methods/trace.ts";
import { MemoryChain } from "./helpers/memoryChain.ts";
import { postRaw, rpc } from "./helpers/rpcClient.ts";

const ADDR = "0x1111111111111111111111111111111111111111";
const SLOT = `0x${"00".repeat(32)}`;

describe("eth_getStorageValues bounds, the batch limit and trace configs", () => {
  const chain = new MemoryChain();
  let server: RpcServer;
  let url: string;

  beforeAll(async () => {
    chain.addBlock([]);
    server = createRpcServer({ http: { host: "127.0.0.1", port: 0 }, ws: false }, { backend: { chain } });
    await server.start();
    url = server.httpUrl as string;
  });
  afterAll(async () => {
    await server.stop();
  });

  it("answers each address's slots, refuses an empty map and more than 1,024 slots in all", async () => {
    const ok = await rpc(url, "eth_getStorageValues", [{ [ADDR]: [SLOT, "0x1"] }, "latest"]);
    expect(ok.result).toEqual({
      [ADDR]: [expect.stringMatching(/^0x[0-9a-f]{64}$/), expect.stringMatching(/^0x[0-9a-f]{64}$/)],
    });
    const empty = await rpc(url, "eth_getStorageValues", [{}, "latest"]);
    expect(empty.error).toEqual({ code: -32602, message: "empty request" });
    const half = Array.from({ length: 513 }, () => SLOT);
    const tooMany = await rpc(url, "eth_getStorageValues", [
      { [ADDR]: half, "0x2222222222222222222222222222222222222222": half },
    ]);
    expect(tooMany.error?.code).toBe(-32602);
    expect(tooMany.error?.message).toMatch(/too many slots \(max 1024\)/);
    const badKey = await rpc(url, "eth_getStorageValues", [{ "0x12": [SLOT] }]);
    expect(badKey.error?.code).toBe(-32602);
  });

  it("the default batch limit is 100 calls", async () => {
    expect(defaultRpcServerOptions.maxBatchSize).toBe(100);
    const call = (id: number) => ({ jsonrpc: "2.0", id, method: "eth_chainId", params: [] });
    const ok = await postRaw(url, JSON.stringify(Array.from({ length: 100 }, (_, i) => call(i))));
    expect((JSON.parse(ok.text) as unknown[]).length).toBe(100);
    const over = await postRaw(url, JSON.stringify(Array.from({ length: 101 }, (_, i) => call(i))));
    expect(over.text).toMatch(/batch too large/);
  });

  it("trace methods are not registered on a backend that does not trace", async () => {
    const r = await rpc(url, "debug_traceBlockByNumber", ["0x1"]);
    expect(r.error?.code).toBe(-32601);
  });

  it("trace configs decode Go durations and refuse bad fields", () => {
    expect(parseDuration("5s")).toBe(5000);
    expect(parseDuration("1m30s")).toBe(90_000);
    expect(parseDuration("300ms")).toBe(300);
    expect(() => parseDuration("5")).toThrow(/invalid duration/);
    expect(() => parseDuration("forever")).toThrow(/invalid duration/);
    expect(traceConfig(undefined)).toEqual({ timeoutMs: 5000 });
    expect(traceConfig({ tracer: "callTracer", tracerConfig: { onlyTopCall: true }, timeout: "2s" })).toEqual(
      {
        tracer: "callTracer",
        tracerConfig: { onlyTopCall: true },
        timeoutMs: 2000,
      },
    );
    expect(() => traceConfig({ disableStack: "yes" })).toThrow(/bool/);
    expect(() => traceConfig([])).toThrow(/non-object/);
  });
});
