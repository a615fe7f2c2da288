import { DevnetError, DevnetErrorCode } from "./errors.ts";

export type RpcResponse = { id: number; result?: unknown; error?: { code: number; message: string } };

let nextId = 1;

/** One JSON-RPC call over HTTP; throws on transport errors and on JSON-RPC errors. */
export async function rpcCall<T = unknown>(
  url: string,
  method: string,
  params: unknown[] = [],
  timeoutMs = 5000,
): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as RpcResponse;
  if (body.error) {
    throw new DevnetError(DevnetErrorCode.RpcError, `${method}: ${body.error.message}`, {
      code: body.error.code,
      url,
    });
  }
  return body.result as T;
}

/**
 * A JSON-RPC batch; returns the responses in request order. A transport failure throws; a
 * per-call error is returned in its slot.
 */
export async function rpcBatch(
  url: string,
  calls: { method: string; params: unknown[] }[],
  timeoutMs = 10_000,
): Promise<RpcResponse[]> {
  if (calls.length === 0) return [];
  const first = nextId;
  nextId += calls.length;
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(calls.map((c, i) => ({ jsonrpc: "2.0", id: first + i, ...c }))),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as RpcResponse[] | RpcResponse;
  if (!Array.isArray(body)) {
    const msg = body.error?.message ?? "not a batch response";
    return calls.map((_, i) => ({
      id: first + i,
      error: { code: body.error?.code ?? -32603, message: msg },
    }));
  }
  const byId = new Map(body.map((r) => [r.id, r]));
  return calls.map(
    (_, i) => byId.get(first + i) ?? { id: first + i, error: { code: -32603, message: "missing response" } },
  );
}

export type RpcBlock = {
  number: string;
  hash: string;
  parentHash: string;
  timestamp: string;
  miner: string;
  extraData: string;
  gasUsed: string;
  transactions: string[];
};

export async function getBlock(
  url: string,
  height: number | "latest",
  timeoutMs = 5000,
): Promise<RpcBlock | null> {
  const tag = height === "latest" ? "latest" : `0x${height.toString(16)}`;
  return rpcCall<RpcBlock | null>(url, "eth_getBlockByNumber", [tag, false], timeoutMs);
}

export async function blockNumber(url: string, timeoutMs = 5000): Promise<number> {
  return Number(await rpcCall<string>(url, "eth_blockNumber", [], timeoutMs));
}
