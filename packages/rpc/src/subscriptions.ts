/**
 * eth_subscribe over WebSocket: newHeads, logs, newPendingTransactions. Heads are processed in
 * order on one queue; every committed block between two events is delivered, so a burst of
 * events never skips a block. A session that cannot keep up is closed by the server.
 */
import type { Hex } from "@dseq/common";
import { bloomMatches } from "./bloom.ts";
import type { Services } from "./context.ts";
import { RpcError, RpcErrorCode } from "./errors.ts";
import { newId } from "./filters.ts";
import { formatHeader, formatTransaction, type Json } from "./format.ts";
import { blockLogs } from "./logs.ts";
import { bool, type LogFilter, logFilter, ParamError } from "./params.ts";
import type { Session } from "./registry.ts";
import type { RpcEvents } from "./types.ts";

type Sub = { id: string; session: Session } & (
  | { kind: "newHeads" }
  | { kind: "logs"; filter: LogFilter }
  | { kind: "newPendingTransactions"; full: boolean }
);

/** Most heads a backlog may hold before the oldest undelivered ones are skipped. */
const MAX_BACKLOG = 1024n;

export class SubscriptionManager {
  private readonly subs = new Map<string, Sub>();
  private readonly svc: Services;
  private readonly offs: (() => void)[] = [];
  private delivered: bigint;
  private queue: Promise<void> = Promise.resolve();

  constructor(svc: Services, events: RpcEvents | undefined) {
    this.svc = svc;
    this.delivered = svc.chain.heads().latest;
    if (events !== undefined) {
      this.offs.push(events.on("chain.head", ({ number }) => this.onHead(number)));
      this.offs.push(events.on("txpool.pending", ({ hashes }) => this.onPending(hashes)));
    }
  }

  get size(): number {
    return this.subs.size;
  }

  subscribe(session: Session, kind: unknown, arg: unknown): string {
    const id = newId();
    let sub: Sub;
    if (kind === "newHeads") sub = { id, kind, session };
    else if (kind === "logs") {
      const filter = logFilter(arg ?? {});
      if (filter.blockHash !== undefined || filter.fromBlock !== undefined || filter.toBlock !== undefined) {
        throw new RpcError(RpcErrorCode.InvalidParams, "logs subscription takes only address and topics");
      }
      sub = { id, kind, session, filter };
    } else if (kind === "newPendingTransactions") {
      sub = { id, kind, session, full: arg === undefined || arg === null ? false : bool(arg) };
    } else if (typeof kind === "string") {
      throw new RpcError(RpcErrorCode.InvalidParams, `no "${kind}" subscription in eth namespace`);
    } else throw new ParamError("invalid subscription name");
    this.subs.set(id, sub);
    session.onClose(() => this.subs.delete(id));
    return id;
  }

  unsubscribe(session: Session, id: string): boolean {
    const sub = this.subs.get(id);
    if (sub === undefined || sub.session.id !== session.id) return false;
    return this.subs.delete(id);
  }

  private onHead(number: bigint): void {
    this.queue = this.queue
      .then(() => this.deliverUpTo(number))
      .catch((err: unknown) => this.svc.logger.warn("subscription delivery failed", { err: String(err) }));
  }

  private async deliverUpTo(number: bigint): Promise<void> {
    if (number <= this.delivered) return;
    if (number - this.delivered > MAX_BACKLOG) this.delivered = number - MAX_BACKLOG;
    for (let n = this.delivered + 1n; n <= number; n++) {
      this.delivered = n;
      const heads: Sub[] = [];
      const logs: Extract<Sub, { kind: "logs" }>[] = [];
      for (const s of this.subs.values()) {
        if (s.kind === "newHeads") heads.push(s);
        else if (s.kind === "logs") logs.push(s);
      }
      if (heads.length === 0 && logs.length === 0) continue;
      const header = await this.svc.chain.getHeader(n);
      if (header === undefined) continue;
      const headJson = formatHeader(header);
      for (const s of heads) this.send(s, headJson);
      const wanted = logs.filter((s) => bloomMatches(header.logsBloom, s.filter.addresses, s.filter.topics));
      if (wanted.length === 0) continue;
      const [block, receipts] = await Promise.all([
        this.svc.chain.getBlockByHash(header.hash),
        this.svc.chain.getReceipts(header.hash),
      ]);
      if (block === undefined || receipts === undefined) continue;
      for (const s of wanted) for (const log of blockLogs(block, receipts, s.filter)) this.send(s, log);
    }
  }

  private onPending(hashes: Hex[]): void {
    for (const s of this.subs.values()) {
      if (s.kind !== "newPendingTransactions") continue;
      for (const h of hashes) {
        if (!s.full) {
          this.send(s, h);
          continue;
        }
        const tx = this.svc.backend.txpool?.getTransaction(h);
        this.send(s, tx === undefined ? h : formatTransaction(tx, undefined));
      }
    }
  }

  private send(s: Sub, result: Json): void {
    if (!this.subs.has(s.id)) return;
    if (!s.session.notify(s.id, result)) this.subs.delete(s.id);
  }

  /** Waits until every head event so far has been delivered (tests, shutdown). */
  idle(): Promise<void> {
    return this.queue;
  }

  close(): void {
    for (const off of this.offs) off();
    this.subs.clear();
  }
}
