import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { errorMessage, type Logger } from "@dseq/common";
import type { Devnet } from "./devnet.ts";
import { DevnetError, DevnetErrorCode } from "./errors.ts";
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
    if (
      req.method === "POST" &&
      (url.pathname.startsWith("/l1/") || url.pathname.startsWith("/validators/"))
    ) {
      try {
        return send(res, 200, await l1Action(devnet, url, log));
      } catch (err) {
        return send(res, 409, { error: errorMessage(err) });
      }
    }
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

/**
 * L1 actions of an L1 devnet: `POST /l1/stop|start` (outage of the nodes' L1 endpoint),
 * `POST /l1/deposit?to=&amount=` (wei), `POST /validators/add?lock=` (wei),
 * `POST /validators/<name>/unlock`.
 */
async function l1Action(devnet: Devnet, url: URL, log?: Logger): Promise<Record<string, unknown>> {
  const l1 = devnet.l1;
  if (!l1) throw new DevnetError(DevnetErrorCode.NoL1, "this devnet runs without L1 (--no-l1)");
  const p = url.pathname;
  log?.info("devnet L1 action", { action: p });
  if (p === "/l1/stop") {
    await l1.down();
    return { l1: "down" };
  }
  if (p === "/l1/start") {
    await l1.up();
    return { l1: "up" };
  }
  if (p === "/l1/deposit") {
    const to = url.searchParams.get("to") ?? "";
    const amount = url.searchParams.get("amount") ?? "";
    if (!/^0x[0-9a-fA-F]{40}$/.test(to) || !/^\d+$/.test(amount)) {
      throw new DevnetError(DevnetErrorCode.BadOption, "deposit needs to=<0x address> and amount=<wei>");
    }
    const l1Block = await l1.deposit(to.toLowerCase() as `0x${string}`, BigInt(amount));
    return { to, amount, l1Block: l1Block.toString() };
  }
  if (p === "/validators/add") {
    const lock = url.searchParams.get("lock");
    const { node, sequencerId } = await devnet.addValidator(lock ? { lock: BigInt(lock) } : {});
    return { node: node.name, address: node.address, sequencerId, rpcUrl: node.rpcUrl };
  }
  const m = /^\/validators\/([^/]+)\/unlock$/.exec(p);
  if (m) {
    const sequencerId = await devnet.unlockValidator(m[1] as string);
    return { node: m[1], sequencerId, unlock: "started" };
  }
  throw new DevnetError(DevnetErrorCode.BadOption, `unknown L1 action ${p}`);
}

/** Sends one L1 action to the running supervisor (`devnet deposit|add-validator|unlock|l1`). */
export async function sendL1Control(dataDir: string, path: string): Promise<Record<string, unknown>> {
  const s = requireRunning(dataDir);
  const res = await fetch(`${s.control.url}${path}`, {
    method: "POST",
    headers: { "x-devnet-token": s.control.token },
    signal: AbortSignal.timeout(120_000),
  }).catch((err: unknown) => {
    throw new DevnetError(
      DevnetErrorCode.ControlUnreachable,
      `devnet supervisor at ${s.control.url} did not answer: ${errorMessage(err)}`,
    );
  });
  const body = (await res.json()) as Record<string, unknown> & { error?: string };
  if (!res.ok) throw new DevnetError(DevnetErrorCode.ControlRefused, body.error ?? `HTTP ${res.status}`);
  return body;
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
      DevnetErrorCode.ControlUnreachable,
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
  if (!res.ok) throw new DevnetError(DevnetErrorCode.ControlRefused, body.error ?? `HTTP ${res.status}`);
  return body;
}
