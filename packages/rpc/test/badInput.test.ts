import { connect, type Socket } from "node:net";
import { createMetrics, EventBus, type Hex } from "@dseq/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { createRpcServer, type RpcEventMap, type RpcServer } from "../src/index.ts";
import { MemoryChain } from "./helpers/memoryChain.ts";
import { postRaw, rpc } from "./helpers/rpcClient.ts";

const ADDR = "0x1111111111111111111111111111111111111111";

describe("bad input: each gets a clear error and the server keeps serving", () => {
  const chain = new MemoryChain();
  const events = new EventBus<RpcEventMap>({ name: "test-rpc-events" });
  const metrics = createMetrics();
  let server: RpcServer;
  let url: string;

  beforeAll(async () => {
    chain.balances.set(ADDR, 1234n);
    chain.addBlock([]);
    server = createRpcServer(
      {
        http: { host: "127.0.0.1", port: 0 },
        ws: { host: "127.0.0.1", port: 0 },
        maxBodyBytes: 64 * 1024,
        maxBatchSize: 20,
        requestTimeoutMs: 300,
        requestReadTimeoutMs: 500,
        maxResponseBytes: 30_000,
        corsOrigins: ["https://app.example"],
        wsMaxBufferedBytes: 64 * 1024,
      },
      { backend: { chain, events }, metrics },
    );
    await server.start();
    url = server.httpUrl as string;
  });
  afterAll(async () => {
    await server.stop();
  });

  async function stillServing(): Promise<void> {
    const r = await rpc(url, "eth_getBalance", [ADDR, "latest"]);
    expect(r.result).toBe("0x4d2");
  }

  it("malformed JSON -> -32700 parse error with id null", async () => {
    for (const body of ["{", '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"', "not json", "\u0000\u0001"]) {
      const res = await postRaw(url, body);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toEqual({
        jsonrpc: "2.0",
        id: null,
        error: { code: -32700, message: "parse error" },
      });
    }
    await stillServing();
  });

  it("invalid requests -> -32600", async () => {
    for (const body of ["1", '"x"', "null", '{"jsonrpc":"2.0","id":{},"method":"eth_chainId"}']) {
      const r = JSON.parse((await postRaw(url, body)).text);
      expect(r.error.code).toBe(-32600);
      expect(r.id).toBeNull();
    }
    const noVersion = JSON.parse((await postRaw(url, '{"id":7,"method":"eth_chainId"}')).text);
    expect(noVersion).toMatchObject({ id: 7, error: { code: -32600 } });
    const noMethod = JSON.parse((await postRaw(url, '{"jsonrpc":"2.0","id":8}')).text);
    expect(noMethod).toMatchObject({ id: 8, error: { code: -32600 } });
    await stillServing();
  });

  it("unknown method -> -32601 with geth's message", async () => {
    const r = await rpc(url, "eth_fooBar", []);
    expect(r.error).toEqual({
      code: -32601,
      message: "the method eth_fooBar does not exist/is not available",
    });
    const out = await rpc(url, "debug_traceTransaction", [`0x${"00".repeat(32)}`]);
    expect(out.error?.code).toBe(-32601);
    const counted = await metrics.values("dseq_rpc_calls_total");
    expect(counted).toContainEqual({ labels: { method: "unknown", outcome: "error" }, value: 2 });
  });

  it("wrong types and argument counts -> -32602 naming the argument", async () => {
    const cases: [string, unknown[], RegExp][] = [
      ["eth_getBalance", [123, "latest"], /invalid argument 0: json: cannot unmarshal number/],
      ["eth_getBalance", ["0x1234", "latest"], /invalid argument 0: hex string has length 4, want 40/],
      ["eth_getBalance", [ADDR.slice(2), "latest"], /invalid argument 0: .*without 0x prefix/],
      ["eth_getBalance", [], /missing value for required argument 0/],
      ["eth_getBalance", [ADDR, "latest", 1], /too many arguments, want at most 2/],
      [
        "eth_getBlockByNumber",
        ["0x1", "yes"],
        /invalid argument 1: json: cannot unmarshal string into Go value of type bool/,
      ],
      ["eth_getBlockByHash", ["0x12", true], /invalid argument 0: hex string has length 2, want 64/],
      ["eth_getTransactionByBlockNumberAndIndex", ["0x1", "0x"], /invalid argument 1: hex string "0x"/],
      ["eth_call", ["0xdead", "latest"], /invalid argument 0: json: cannot unmarshal string/],
      ["eth_call", [{ to: ADDR, data: "0x1", input: "0x1" }], /invalid argument 0: hex string of odd length/],
      ["eth_call", [{ to: ADDR, data: "0x01", input: "0x02" }], /both "data" and "input" are set/],
      ["eth_call", [{ to: ADDR, value: "0x0001" }], /leading zero digits/],
      ["eth_getLogs", [{ topics: [[], [], [], [], []] }], /too many topics/],
      ["eth_getStorageAt", [ADDR, "0xasdf", "latest"], /invalid hex in storage key/],
      ["eth_getStorageAt", [ADDR, `0x${"00".repeat(33)}`, "latest"], /storage key too long/],
    ];
    for (const [m, params, message] of cases) {
      const r = await rpc(url, m, params);
      expect(r.error?.code, `${m} ${JSON.stringify(params)}`).toBe(-32602);
      expect(r.error?.message).toMatch(message);
    }
    const objectParams = JSON.parse(
      (await postRaw(url, '{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":{"a":1}}')).text,
    );
    expect(objectParams.error).toEqual({ code: -32602, message: "non-array args" });
    await stillServing();
  });

  it("invalid block tags -> -32602", async () => {
    for (const tag of ["lastest", "0x", "0x01", "1", "0xzz", "0x10000000000000000", "Latest"]) {
      const r = await rpc(url, "eth_getBlockByNumber", [tag, false]);
      expect(r.error?.code, tag).toBe(-32602);
      expect(r.error?.message).toMatch(/^invalid argument 0: /);
    }
    for (const tag of ["latest", "safe", "finalized", "pending", "earliest", "0x0", "0x1"]) {
      const r = await rpc(url, "eth_getBlockByNumber", [tag, false]);
      expect(r.error, tag).toBeUndefined();
      expect(r.result).not.toBeNull();
    }
    expect((await rpc(url, "eth_getBlockByNumber", ["0x99", false])).result).toBeNull();
    // A state read at a block that does not exist is an error, not a zero.
    expect((await rpc(url, "eth_getBalance", [ADDR, "0x99"])).error).toEqual({
      code: -32000,
      message: "header not found",
    });
    expect(
      (await rpc(url, "eth_getBalance", [ADDR, { blockHash: `0x${"ab".repeat(32)}` }])).error?.code,
    ).toBe(-32000);
  });

  it("batches: mixed good and bad items answer in order; empty and oversized batches fail whole", async () => {
    const batch = [
      { jsonrpc: "2.0", id: 1, method: "eth_chainId" },
      { jsonrpc: "2.0", id: 2, method: "nope" },
      { jsonrpc: "2.0", method: "eth_chainId" }, // notification: no reply
      { jsonrpc: "2.0", id: 3, method: "eth_getBalance", params: [ADDR] },
      42,
    ];
    const r = JSON.parse((await postRaw(url, JSON.stringify(batch))).text);
    expect(r).toEqual([
      { jsonrpc: "2.0", id: 1, result: "0x539" },
      {
        jsonrpc: "2.0",
        id: 2,
        error: { code: -32601, message: "the method nope does not exist/is not available" },
      },
      { jsonrpc: "2.0", id: 3, result: "0x4d2" },
      { jsonrpc: "2.0", id: null, error: { code: -32600, message: "invalid request" } },
    ]);
    const empty = JSON.parse((await postRaw(url, "[]")).text);
    expect(empty).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "empty batch" } });
    const huge = Array.from({ length: 21 }, (_, i) => ({
      jsonrpc: "2.0",
      id: i + 100,
      method: "eth_chainId",
    }));
    const tooBig = JSON.parse((await postRaw(url, JSON.stringify(huge))).text);
    expect(tooBig).toEqual([
      { jsonrpc: "2.0", id: 100, error: { code: -32600, message: "batch too large" } },
    ]);
    const notifications = await postRaw(url, JSON.stringify([{ jsonrpc: "2.0", method: "eth_chainId" }]));
    expect(notifications.status).toBe(200);
    expect(notifications.text).toBe("");
    await stillServing();
  });

  it("huge body -> HTTP 413 with a JSON-RPC error, declared or streamed", async () => {
    const big = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "eth_call",
      params: [{ input: `0x${"00".repeat(40_000)}` }],
    });
    const res = await postRaw(url, big);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).error.code).toBe(-32600);
    expect(JSON.parse(res.text).error.message).toMatch(/too large/);
    // Chunked (no content-length): the limit applies while streaming.
    const chunked = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(new URL(url).port), "127.0.0.1");
      let data = "";
      sock.on("data", (d) => {
        data += d.toString();
      });
      sock.on("close", () => resolve(data));
      sock.on("error", reject);
      sock.write(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
      );
      const chunk = "a".repeat(16 * 1024);
      for (let i = 0; i < 6; i++) sock.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    });
    expect(chunked).toMatch(/^HTTP\/1\.1 413/);
    await stillServing();
  });

  it("response too large -> -32003 for that call only", async () => {
    const r = await rpc(url, "eth_call", [{ to: ADDR, input: `0x${"ab".repeat(4_000)}` }]);
    expect(r.result).toMatch(/^0xab/);
    const big = await rpc(url, "eth_call", [{ to: ADDR, input: `0x${"ab".repeat(20_000)}` }]);
    expect(big.error).toEqual({ code: -32003, message: "response too large" });
    const batch = Array.from({ length: 5 }, (_, i) => ({
      jsonrpc: "2.0",
      id: i,
      method: "eth_call",
      params: [{ to: ADDR, input: `0x${"ab".repeat(4_000)}` }],
    }));
    const out = JSON.parse((await postRaw(url, JSON.stringify(batch))).text) as {
      id: number;
      error?: { code: number };
    }[];
    expect(out.length).toBe(5);
    expect(out.map((o) => o.error?.code)).toEqual([undefined, undefined, undefined, -32003, -32003]);
  });

  it("revert -> code 3 with the reason in the message and the revert data", async () => {
    const r = await rpc(url, "eth_call", [{ to: ADDR, input: "0xdead" }, "latest"]);
    expect(r.error?.code).toBe(3);
    expect(r.error?.message).toBe("execution reverted: nope");
    expect(r.error?.data).toMatch(/^0x08c379a0/);
  });

  it("transport errors: wrong content type 415, GET 405, subscribe over HTTP -32001", async () => {
    expect((await postRaw(url, "{}", { "content-type": "text/plain" })).status).toBe(415);
    expect((await fetch(url)).status).toBe(405);
    expect((await rpc(url, "eth_subscribe", ["newHeads"])).error?.code).toBe(-32001);
  });

  it("virtual hosts: unknown Host names are refused (DNS rebinding), IPs and listed names pass", async () => {
    const port = new URL(url).port;
    const ask = (host: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const sock = connect(Number(port), "127.0.0.1");
        let data = "";
        sock.on("data", (d) => {
          data += d.toString();
        });
        sock.on("close", () => resolve(data));
        sock.on("error", reject);
        const body = '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}';
        sock.end(
          `POST / HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
      });
    expect(await ask("evil.example:8545")).toMatch(/^HTTP\/1\.1 403[\s\S]*invalid host specified/);
    expect(await ask(`localhost:${port}`)).toMatch(/^HTTP\/1\.1 200[\s\S]*"result":"0x539"/);
    expect(await ask(`127.0.0.1:${port}`)).toMatch(/^HTTP\/1\.1 200/);
  });

  it("CORS: allowed origin gets headers, others do not; disallowed WebSocket origin is refused", async () => {
    const pre = await fetch(url, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("https://app.example");
    const other = await postRaw(url, '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"}', {
      "content-type": "application/json",
      origin: "https://evil.example",
    });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(server.wsUrl as string, { headers: { origin: "https://evil.example" } });
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => resolve(101));
      ws.on("error", () => {});
    });
    expect(refused).toBe(403);
  });

  it("slow handler -> -32002 request timed out, other calls unaffected", async () => {
    chain.delayMs = 1000;
    try {
      const slow = rpc(url, "eth_getBlockByNumber", ["latest", false]);
      const fast = await rpc(url, "eth_chainId");
      expect(fast.result).toBe("0x539");
      expect((await slow).error).toEqual({ code: -32002, message: "request timed out" });
    } finally {
      chain.delayMs = 0;
    }
    await stillServing();
  });

  it("slowloris client is cut off after the read timeout while others are served", async () => {
    const port = Number(new URL(url).port);
    const sock: Socket = connect(port, "127.0.0.1");
    const closed = new Promise<string>((resolve) => {
      let data = "";
      sock.on("data", (d) => {
        data += d.toString();
      });
      sock.on("close", () => resolve(data));
      sock.on("error", () => {});
    });
    sock.write(
      "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    const drip = setInterval(() => sock.write(" "), 100);
    await stillServing();
    const data = await closed;
    clearInterval(drip);
    expect(data === "" || /408|400/.test(data)).toBe(true);
    await stillServing();
  });

  it("an oversized WebSocket message closes that connection with 1009; others keep working", async () => {
    const ws = new WebSocket(server.wsUrl as string);
    await new Promise((r) => ws.once("open", r));
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    ws.on("error", () => {});
    ws.send(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "eth_call",
        params: [{ input: `0x${"00".repeat(40_000)}` }],
      }),
    );
    expect(await closed).toBe(1009);
    await stillServing();
  });

  it("a WebSocket client that stops answering pings is dropped", async () => {
    const pinging = createRpcServer(
      { http: false, ws: { host: "127.0.0.1", port: 0 }, wsPingIntervalMs: 100 },
      { backend: { chain, events } },
    );
    await pinging.start();
    try {
      const healthy = new WebSocket(pinging.wsUrl as string);
      const deaf = new WebSocket(pinging.wsUrl as string, { autoPong: false });
      await Promise.all([healthy, deaf].map((w) => new Promise((r) => w.once("open", r))));
      const closed = new Promise<void>((resolve) => deaf.once("close", () => resolve()));
      await closed;
      expect(healthy.readyState).toBe(WebSocket.OPEN);
      healthy.close();
    } finally {
      await pinging.stop();
    }
  });

  it("malformed WebSocket frames get errors; a stalled subscriber is disconnected, others keep going", async () => {
    const ws = new WebSocket(server.wsUrl as string);
    await new Promise((r) => ws.once("open", r));
    const replies: unknown[] = [];
    ws.on("message", (m) => replies.push(JSON.parse(m.toString())));
    ws.send("{oops");
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 5, method: "eth_subscribe", params: ["nothing"] }));
    ws.send(
      JSON.stringify({ jsonrpc: "2.0", id: 6, method: "eth_subscribe", params: ["newPendingTransactions"] }),
    );
    await expect.poll(() => replies.length).toBe(3);
    expect(replies).toContainEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32700, message: "parse error" },
    });
    expect(replies).toContainEqual(
      expect.objectContaining({ id: 5, error: expect.objectContaining({ code: -32602 }) }),
    );

    // A second client stops reading; the server must drop it instead of buffering forever.
    const stalled = new WebSocket(server.wsUrl as string);
    await new Promise((r) => stalled.once("open", r));
    stalled.send(
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["newPendingTransactions"] }),
    );
    await expect.poll(() => server.subscriptions.size).toBe(2);
    (stalled as unknown as { _socket: Socket })._socket.pause();
    const closed = new Promise<void>((resolve) => stalled.once("close", () => resolve()));
    stalled.on("error", () => {});
    const hashes = Array.from({ length: 2000 }, (_, i) => `0x${i.toString(16).padStart(64, "0")}` as Hex);
    for (let i = 0; i < 150 && server.subscriptions.size > 1; i++) {
      events.emit("txpool.pending", { hashes });
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(server.subscriptions.size).toBe(1);
    (stalled as unknown as { _socket: Socket })._socket.resume();
    stalled.terminate();
    await closed;
    // The healthy client got notifications and still answers calls.
    expect(replies.some((r) => (r as { method?: string }).method === "eth_subscription")).toBe(true);
    const before = replies.length;
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 99, method: "eth_chainId" }));
    await expect.poll(() => replies.slice(before).some((r) => (r as { id?: number }).id === 99)).toBe(true);
    ws.close();
    await stillServing();
  }, 20_000);
});
