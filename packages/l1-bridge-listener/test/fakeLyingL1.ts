// A fake L1 endpoint for tests: a small HTTP server on 127.0.0.1 that forwards JSON-RPC to a real
// dev L1 and lies in the ways a broken or hostile provider does.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type LieMode =
  | "honest"
  /** Accepts the request and never answers. */
  | "hang"
  /** HTTP 500 for everything. */
  | "error"
  /** eth_blockNumber goes down by `step` on every call. */
  | "headBackwards"
  /** eth_blockNumber is far ahead of the blocks it can serve. */
  | "headAhead"
  /** eth_getLogs answers with block hashes of no real block. */
  | "wrongLogHash";

export type FakeLyingL1 = {
  url: string;
  mode: LieMode;
  /** Requests received, by method. */
  calls: Map<string, number>;
  close(): Promise<void>;
};

type RpcReq = { id: unknown; method: string; params?: unknown[] };

export async function startFakeLyingL1(upstream: string, mode: LieMode, step = 3n): Promise<FakeLyingL1> {
  const hanging = new Set<ServerResponse>();
  let lowered = 0n;
  const fake: FakeLyingL1 = { url: "", mode, calls: new Map(), close: async () => {} };
  const forward = async (req: RpcReq): Promise<unknown> => {
    const res = await fetch(upstream, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", ...req }),
    });
    return res.json();
  };
  const answer = async (req: RpcReq): Promise<unknown> => {
    fake.calls.set(req.method, (fake.calls.get(req.method) ?? 0) + 1);
    const real = (await forward(req)) as { result?: unknown };
    if (fake.mode === "headBackwards" && req.method === "eth_blockNumber") {
      lowered += step;
      const n = BigInt(real.result as string) - lowered;
      return { ...real, result: `0x${(n < 0n ? 0n : n).toString(16)}` };
    }
    if (fake.mode === "headAhead" && req.method === "eth_blockNumber") {
      return { ...real, result: `0x${(BigInt(real.result as string) + 1000n).toString(16)}` };
    }
    if (fake.mode === "wrongLogHash" && req.method === "eth_getLogs" && Array.isArray(real.result)) {
      return {
        ...real,
        result: (real.result as { blockHash: string }[]).map((l) => ({
          ...l,
          blockHash: `0x${"66".repeat(32)}`,
        })),
      };
    }
    return real;
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      if (fake.mode === "hang") {
        hanging.add(res);
        return;
      }
      if (fake.mode === "error") {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end("upstream exploded");
        return;
      }
      const parsed = JSON.parse(body) as RpcReq | RpcReq[];
      const work = Array.isArray(parsed) ? Promise.all(parsed.map(answer)) : answer(parsed);
      work.then(
        (out) => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify(out));
        },
        (err: unknown) => {
          res.writeHead(502);
          res.end(String(err));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = async () => {
    for (const r of hanging) r.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return fake;
}
