/**
 * The JSON-RPC server: HTTP (node:http) and WebSocket (ws) transports over one Dispatcher.
 * Limits: request body size (HTTP 413 / WebSocket close 1009), batch size, per-call timeout,
 * response size, slow-request and idle timeouts, and a send buffer cap per WebSocket client
 * (a subscriber that cannot keep up is disconnected rather than buffered without bound).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, isIP } from "node:net";
import type { Duplex } from "node:stream";
import { type Clock, createNoopLogger, type Logger, type Metrics } from "@dseq/common";
import { type WebSocket, WebSocketServer } from "ws";
import { defaultMethodOptions, type MethodOptions, type Services } from "./context.ts";
import { Dispatcher, type DispatcherOptions, defaultDispatcherOptions } from "./dispatcher.ts";
import { RpcError, RpcErrorCode } from "./errors.ts";
import { FilterManager } from "./filters.ts";
import type { Json } from "./format.ts";
import { capabilitiesMethods } from "./methods/capabilities.ts";
import { chainMethods } from "./methods/chain.ts";
import { configMethods } from "./methods/config.ts";
import { executionMethods } from "./methods/execution.ts";
import { feeMethods } from "./methods/fees.ts";
import { logMethods } from "./methods/logs.ts";
import { nodeMethods } from "./methods/node.ts";
import { sendRawSyncMethods } from "./methods/sendRawSync.ts";
import { simulateMethods } from "./methods/simulate.ts";
import { stateMethods } from "./methods/state.ts";
import { storageValuesMethods } from "./methods/storageValues.ts";
import { traceMethods } from "./methods/trace.ts";
import { MethodRegistry, type Session } from "./registry.ts";
import { SubscriptionManager } from "./subscriptions.ts";
import type { RpcBackend } from "./types.ts";

export type ListenOptions = { host: string; port: number };

export type RpcServerOptions = DispatcherOptions &
  MethodOptions & {
    /** HTTP endpoint; false to disable. Port 0 picks a free port. */
    http: ListenOptions | false;
    /** WebSocket endpoint; the same host and port as `http` share one listener. */
    ws: ListenOptions | false;
    /** Origins allowed by CORS (HTTP) and for WebSocket upgrades; "*" allows any. */
    corsOrigins: string[];
    /**
     * Host names accepted in the Host header (geth's --http.vhosts, a DNS-rebinding guard).
     * IP literals are always accepted; "*" accepts any name.
     */
    vhosts: string[];
    /** WebSocket clients that do not answer a ping within this interval are dropped. */
    wsPingIntervalMs: number;
    /** Largest request body (HTTP) or message (WebSocket), bytes (geth: 5 MiB). */
    maxBodyBytes: number;
    /** Time a client has to send a whole HTTP request (slowloris guard). */
    requestReadTimeoutMs: number;
    /** Idle keep-alive connections are closed after this long. */
    keepAliveTimeoutMs: number;
    /** Bytes queued to one WebSocket client before it is disconnected as too slow. */
    wsMaxBufferedBytes: number;
    /** Calls one WebSocket client may have in flight at once. */
    wsMaxInFlight: number;
  };

export const defaultRpcServerOptions: RpcServerOptions = {
  ...defaultDispatcherOptions,
  ...defaultMethodOptions,
  http: { host: "127.0.0.1", port: 8545 },
  ws: { host: "127.0.0.1", port: 8546 },
  corsOrigins: [],
  vhosts: ["localhost"],
  wsPingIntervalMs: 30_000,
  maxBodyBytes: 5 * 1024 * 1024,
  requestReadTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  wsMaxBufferedBytes: 16 * 1024 * 1024,
  wsMaxInFlight: 128,
};

export type RpcServerModules = {
  backend: RpcBackend;
  logger?: Logger;
  metrics?: Metrics;
  clock?: Clock;
};

function jsonError(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: "2.0", id: null, error: { code, message } });
}

/** geth's virtual-host check: IP literals pass, names must be listed (or "*"). */
export function hostAllowed(vhosts: string[], hostHeader: string | undefined): boolean {
  if (vhosts.includes("*")) return true;
  if (hostHeader === undefined || hostHeader === "") return false;
  let host = hostHeader;
  if (host.startsWith("[")) return true; // [IPv6]:port
  const colon = host.lastIndexOf(":");
  if (colon >= 0) host = host.slice(0, colon);
  if (isIP(host) !== 0) return true;
  return vhosts.includes(host.toLowerCase());
}

function originAllowed(allowed: string[], origin: string | undefined): boolean {
  if (origin === undefined) return true;
  return allowed.includes("*") || allowed.includes(origin);
}

export class RpcServer {
  readonly opts: RpcServerOptions;
  readonly registry = new MethodRegistry();
  readonly dispatcher: Dispatcher;
  readonly filters: FilterManager;
  readonly subscriptions: SubscriptionManager;
  private readonly log: Logger;
  private httpServer: Server | undefined;
  private wsHttpServer: Server | undefined;
  private wss: WebSocketServer | undefined;
  private nextSessionId = 1;

  constructor(opts: Partial<RpcServerOptions>, modules: RpcServerModules) {
    this.opts = { ...defaultRpcServerOptions, ...opts };
    this.log = modules.logger ?? createNoopLogger();
    const svc: Services = {
      backend: modules.backend,
      chain: modules.backend.chain,
      opts: this.opts,
      logger: this.log,
    };
    const events = modules.backend.events;
    this.filters = new FilterManager(svc, {
      ...(events === undefined ? {} : { events }),
      ...(modules.clock === undefined ? {} : { clock: modules.clock }),
    });
    this.subscriptions = new SubscriptionManager(svc, events);
    this.registry.registerAll(chainMethods(svc));
    this.registry.registerAll(stateMethods(svc));
    this.registry.registerAll(storageValuesMethods(svc));
    this.registry.registerAll(capabilitiesMethods(svc));
    this.registry.registerAll(traceMethods(svc));
    this.registry.registerAll(executionMethods(svc));
    this.registry.registerAll(simulateMethods(svc));
    this.registry.registerAll(configMethods(svc));
    this.registry.registerAll(sendRawSyncMethods(svc, undefined, () => this.subscriptions.preconfSource));
    this.registry.registerAll(feeMethods(svc));
    this.registry.registerAll(logMethods(svc, this.filters, this.subscriptions));
    this.registry.registerAll(nodeMethods(svc));
    this.dispatcher = new Dispatcher(this.opts, {
      registry: this.registry,
      logger: this.log,
      ...(modules.metrics === undefined ? {} : { metrics: modules.metrics }),
    });
  }

  /** Handles one JSON-RPC message in process (no transport). */
  handle(text: string): Promise<string | undefined> {
    return this.dispatcher.handleText(text);
  }

  get httpUrl(): string | undefined {
    const a = this.httpServer?.address() as AddressInfo | null | undefined;
    return a ? `http://${a.address}:${a.port}` : undefined;
  }

  get wsUrl(): string | undefined {
    const server = this.wsHttpServer ?? (this.opts.ws === false ? undefined : this.httpServer);
    const a = server?.address() as AddressInfo | null | undefined;
    return a ? `ws://${a.address}:${a.port}` : undefined;
  }

  async start(): Promise<void> {
    const { http, ws } = this.opts;
    if (ws !== false) {
      this.wss = new WebSocketServer({ noServer: true, maxPayload: this.opts.maxBodyBytes });
      this.wss.on("connection", (socket) => this.onWsConnection(socket));
    }
    if (http !== false) {
      this.httpServer = this.newHttpServer(true);
      await listen(this.httpServer, http);
    }
    if (ws !== false) {
      const shared = http !== false && http.host === ws.host && http.port === ws.port && http.port !== 0;
      if (shared) this.httpServer?.on("upgrade", (req, socket, head) => this.onUpgrade(req, socket, head));
      else {
        this.wsHttpServer = this.newHttpServer(false);
        this.wsHttpServer.on("upgrade", (req, socket, head) => this.onUpgrade(req, socket, head));
        await listen(this.wsHttpServer, ws);
      }
    }
    this.log.info("rpc server started", {
      http: this.httpUrl,
      ws: this.wsUrl,
      methods: this.registry.names().length,
    });
  }

  async stop(): Promise<void> {
    this.filters.close();
    this.subscriptions.close();
    for (const client of this.wss?.clients ?? []) client.terminate();
    this.wss?.close();
    await Promise.all([closeServer(this.httpServer), closeServer(this.wsHttpServer)]);
    this.httpServer = undefined;
    this.wsHttpServer = undefined;
    this.log.info("rpc server stopped");
  }

  private newHttpServer(serveRpc: boolean): Server {
    // Node checks request deadlines on this interval (default 30 s): keep it within the timeout.
    const connectionsCheckingInterval = Math.max(
      100,
      Math.min(30_000, Math.floor(this.opts.requestReadTimeoutMs / 2)),
    );
    const server = createServer({ connectionsCheckingInterval }, (req, res) => {
      if (!serveRpc) {
        res.writeHead(426, { "content-type": "text/plain" }).end("websocket only");
        return;
      }
      this.onHttpRequest(req, res).catch((err: unknown) => {
        this.log.warn("http request failed", { err: String(err) });
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
    server.requestTimeout = this.opts.requestReadTimeoutMs;
    server.headersTimeout = Math.min(this.opts.requestReadTimeoutMs, 60_000);
    server.keepAliveTimeout = this.opts.keepAliveTimeoutMs;
    server.on("clientError", (_err, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      else socket.destroy();
    });
    return server;
  }

  private corsHeaders(req: IncomingMessage): Record<string, string> {
    const origin = req.headers.origin;
    if (origin === undefined || !originAllowed(this.opts.corsOrigins, origin)) return {};
    return {
      "access-control-allow-origin": this.opts.corsOrigins.includes("*") ? "*" : origin,
      "access-control-allow-methods": "POST, GET, OPTIONS",
      "access-control-allow-headers": "content-type, authorization",
      "access-control-max-age": "600",
      vary: "origin",
    };
  }

  private async onHttpRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const cors = this.corsHeaders(req);
    if (req.method === "OPTIONS") {
      res.writeHead(204, cors).end();
      return;
    }
    const reply = (status: number, body: string, extra: Record<string, string> = {}): void => {
      res.writeHead(status, { ...cors, "content-type": "application/json", ...extra }).end(body);
    };
    if (!hostAllowed(this.opts.vhosts, req.headers.host)) {
      reply(403, jsonError(RpcErrorCode.InvalidRequest, "invalid host specified"));
      return;
    }
    if (req.method !== "POST") {
      reply(405, jsonError(RpcErrorCode.InvalidRequest, "method not allowed: use POST"), {
        allow: "POST, OPTIONS",
      });
      return;
    }
    const type = req.headers["content-type"];
    if (type !== undefined && !type.toLowerCase().startsWith("application/json")) {
      reply(
        415,
        jsonError(RpcErrorCode.InvalidRequest, `invalid content type, only application/json is supported`),
      );
      return;
    }
    const limit = this.opts.maxBodyBytes;
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > limit) {
      reply(413, jsonError(RpcErrorCode.InvalidRequest, `content length too large (${declared}>${limit})`), {
        connection: "close",
      });
      req.destroy();
      return;
    }
    const body = await readBody(req, limit);
    if (body === undefined) {
      reply(413, jsonError(RpcErrorCode.InvalidRequest, `request body too large (limit ${limit} bytes)`), {
        connection: "close",
      });
      req.destroy();
      return;
    }
    const ctrl = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) ctrl.abort(new RpcError(RpcErrorCode.Server, "client went away"));
    });
    const out = await this.dispatcher.handleText(body, undefined, ctrl.signal);
    if (res.destroyed) return;
    reply(200, out ?? "");
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const wss = this.wss;
    if (
      wss === undefined ||
      !originAllowedForWs(this.opts.corsOrigins, req.headers.origin) ||
      !hostAllowed(this.opts.vhosts, req.headers.host)
    ) {
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (client) => wss.emit("connection", client, req));
  }

  private onWsConnection(socket: WebSocket): void {
    const closers: (() => void)[] = [];
    let alive = true;
    socket.on("pong", () => {
      alive = true;
    });
    const pinger = setInterval(() => {
      if (!alive) {
        this.log.debug("websocket client did not answer ping, dropping");
        socket.terminate();
        return;
      }
      alive = false;
      socket.ping();
    }, this.opts.wsPingIntervalMs);
    pinger.unref();
    closers.push(() => clearInterval(pinger));
    const ctrl = new AbortController();
    let inFlight = 0;
    const maxBuffered = this.opts.wsMaxBufferedBytes;
    const session: Session = {
      id: this.nextSessionId++,
      notify: (subscription: string, result: Json): boolean => {
        if (socket.readyState !== socket.OPEN) return false;
        if (socket.bufferedAmount > maxBuffered) {
          this.log.debug("websocket client too slow, closing", { session: session.id });
          socket.close(1008, "too slow");
          setTimeout(() => socket.terminate(), 1000).unref();
          return false;
        }
        socket.send(
          `{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":${JSON.stringify(subscription)},"result":${JSON.stringify(result)}}}`,
        );
        return true;
      },
      onClose: (fn) => closers.push(fn),
    };
    socket.on("message", (raw, isBinary) => {
      const text =
        isBinary || Array.isArray(raw)
          ? Buffer.concat([raw as Buffer].flat()).toString("utf8")
          : raw.toString();
      if (inFlight >= this.opts.wsMaxInFlight) {
        socket.send(jsonError(RpcErrorCode.LimitExceeded, "too many requests in flight"));
        return;
      }
      inFlight++;
      this.dispatcher
        .handleText(text, session, ctrl.signal)
        .then((out) => {
          if (out !== undefined && socket.readyState === socket.OPEN) {
            if (socket.bufferedAmount > maxBuffered) socket.close(1008, "too slow");
            else socket.send(out);
          }
        })
        .catch((err: unknown) => this.log.warn("websocket message failed", { err: String(err) }))
        .finally(() => {
          inFlight--;
        });
    });
    socket.on("error", (err) => this.log.debug("websocket error", { err: err.message }));
    socket.on("close", () => {
      ctrl.abort(new RpcError(RpcErrorCode.Server, "connection closed"));
      for (const fn of closers) fn();
    });
  }
}

function originAllowedForWs(allowed: string[], origin: string | undefined): boolean {
  // Non-browser clients send no Origin; browsers must be allowed explicitly (geth --ws.origins).
  return originAllowed(allowed, origin);
}

function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
  });
}

function listen(server: Server, at: ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(at.port, at.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function closeServer(server: Server | undefined): Promise<void> {
  if (server === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Creates the server; call `start()` to listen. */
export function createRpcServer(opts: Partial<RpcServerOptions>, modules: RpcServerModules): RpcServer {
  return new RpcServer(opts, modules);
}
