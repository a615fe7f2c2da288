import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger, Metrics } from "@dseq/common";

export type Health = {
  synced: boolean;
  mode: "validator" | "follower";
  head: { number: number; hash: string; timestamp: number };
  lastBlockAgeMs: number;
  currentSequencer: string;
  isSequencer: boolean;
  peers: number;
  consensus: { height: number | undefined; round: number | undefined; halted: boolean };
};

/**
 * The operator's port: `GET /metrics` (Prometheus text) and `GET /health` (JSON; HTTP 200 when
 * synced and not halted, 503 otherwise, so a load balancer or Kubernetes probe can use it).
 */
export class AdminServer {
  private readonly server: Server;
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly health: () => Health;

  constructor(metrics: Metrics, health: () => Health, logger: Logger) {
    this.metrics = metrics;
    this.health = health;
    this.log = logger;
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = (req.url ?? "/").split("?")[0];
      if (req.method !== "GET") {
        res.writeHead(405, { allow: "GET" }).end();
      } else if (path === "/metrics") {
        const body = await this.metrics.render();
        res.writeHead(200, { "content-type": this.metrics.contentType }).end(body);
      } else if (path === "/health") {
        const h = this.health();
        const ok = h.synced && !h.consensus.halted;
        res.writeHead(ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify(h));
      } else {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /health or /metrics\n");
      }
    } catch (err) {
      this.log.error("admin request failed", { err });
      if (!res.headersSent) res.writeHead(500).end();
    }
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once("error", onError);
      this.server.listen(port, host, () => {
        this.server.off("error", onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
