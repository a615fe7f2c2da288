import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { errorMessage, type Logger } from "@dseq/common";
import type { Devnet } from "./devnet.ts";
import { DevnetError } from "./errors.ts";
import { requireRunning } from "./state.ts";

/**
 * The supervisor's fault-injection endpoint, 127.0.0.1 only: `POST /nodes/<name>/<action>`
 * with the token from devnet.json in `x-devnet-token` (so a web page cannot drive it), and
 * `GET /status`.
 */
export const CONTROL_ACTIONS = ["kill", "restart", "pause", "resume", "stop", "start"] as const;
export type ControlAction = (typeof CONTROL_ACTIONS)[number];

export type ControlServer = { url: string; token: string; close(): Promise<void> };

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(`${JSON.stringify(body)}\n`);
}

function status(devnet: Devnet): unknown {
  return {
    nodes: devnet.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      state: n.state,
      pid: n.pid,
      rpcUrl: n.rpcUrl,
    })),
  };
}

export async function startControlServer(devnet: Devnet, log?: Logger): Promise<ControlServer> {
  const token = randomBytes(16).toString("hex");
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.headers["x-devnet-token"] !== token)
      return send(res, 403, { error: "bad or missing x-devnet-token" });
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method === "GET" && url.pathname === "/status") return send(res, 200, status(devnet));
    const m = /^\/nodes\/([^/]+)\/([a-z]+)$/.exec(url.pathname);
    if (req.method !== "POST" || !m) return send(res, 404, { error: "not found" });
    const [, name, action] = m as unknown as [string, string, string];
    if (!(CONTROL_ACTIONS as readonly string[]).includes(action)) {
      return send(res, 400, { error: `unknown action ${action} (${CONTROL_ACTIONS.join(", ")})` });
    }
    const node = devnet.nodes.find((n) => n.name === name);
    if (!node) {
      return send(res, 404, {
        error: `no node named ${name} (${devnet.nodes.map((n) => n.name).join(", ")})`,
      });
    }
    try {
      log?.info("fault injection", { node: name, action });
      const pid = node.pid;
      await node[action as ControlAction]();
      return send(res, 200, { node: name, action, pid: node.pid ?? pid, state: node.state });
    } catch (err) {
      return send(res, 409, { error: errorMessage(err) });
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => send(res, 500, { error: errorMessage(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** What `devnet kill|restart|pause|resume <node>` does from another terminal. */
export async function sendControl(
  dataDir: string,
  action: ControlAction,
  node: string,
): Promise<{ node: string; action: string; pid?: number; state: string }> {
  const s = requireRunning(dataDir);
  let res: Response;
  try {
    res = await fetch(`${s.control.url}/nodes/${encodeURIComponent(node)}/${action}`, {
      method: "POST",
      headers: { "x-devnet-token": s.control.token },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new DevnetError(
      "DEVNET_CONTROL_UNREACHABLE",
      `devnet supervisor at ${s.control.url} did not answer: ${errorMessage(err)}`,
    );
  }
  const body = (await res.json()) as {
    error?: string;
    node: string;
    action: string;
    pid?: number;
    state: string;
  };
  if (!res.ok) throw new DevnetError("DEVNET_CONTROL_REFUSED", body.error ?? `HTTP ${res.status}`);
  return body;
}
