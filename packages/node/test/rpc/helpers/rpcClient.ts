/** Minimal raw JSON-RPC helpers for tests: exact request text in, parsed reply out. */
export type RpcReply = {
  jsonrpc: "2.0";
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
};

export async function postRaw(
  url: string,
  body: string,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { method: "POST", body, headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

let nextId = 1;

export async function rpc(url: string, method: string, params: unknown[] = []): Promise<RpcReply> {
  const { text } = await postRaw(url, JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }));
  return JSON.parse(text) as RpcReply;
}
