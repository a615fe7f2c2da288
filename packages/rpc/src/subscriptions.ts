/**
 * eth_subscribe over WebSocket: newHeads, logs, newPendingTransactions, and, when the node gives
 * a preconfirmation source (ADR 0170), preconfirmations and newFlashblocks (ADR 0174). Heads are processed in
 * order on one queue; every committed block between two events is delivered, so a burst of
 * events never skips a block. A session that cannot keep up is closed by the server.
 */
import type { Hex } from "@dseq/common";
import { bloomMatches } from "./bloom.ts";
import type { Services } from "./context.ts";
import { RpcError, RpcErrorCode } from "./errors.ts";
import { newId } from "./filters.ts";
import { formatHeader, formatTransaction, type Json, type JsonObject } from "./format.ts";
import { blockLogs } from "./logs.ts";
import { bool, type LogFilter, logFilter, ParamError } from "./params.ts";
import type { Session } from "./registry.ts";
import type { RpcEvents } from "./types.ts";

/**
 * One preconfirmation (ADR 0170): a signed fragment of the round-0 proposer of a height, with
 * the receipts its transactions produced on this node's execution of the stream.
 */
export type Preconfirmation = {
  blockNumber: bigint;
  round: number;
  /** The fragment's `seq`: fragments of a block are numbered 0, 1, 2, ... */
  index: number;
  /** The proposer sealed its block with this fragment. */
  last: boolean;
  parentHash: Hex;
  timestamp: bigint;
  /** The signer (the round-0 proposer of the height). */
  proposer: Hex;
  /** The proposer's secp256k1 signature over the fragment (r | s | v, 65 bytes). */
  signature: Hex;
  /** The signed fragment as gossiped (ADR 0092 wire), so anyone can check the signature. */
  fragment: Hex;
  /** The fragment's raw transactions, in order. */
  transactions: Hex[];
  /** The receipts of the transactions the stream executed (skipped ones have none), receipt JSON with blockHash null. */
  receipts: JsonObject[];
  /** The block's gas used after this fragment, when known. */
  gasUsed?: bigint;
};

/** Where preconfirmations come from (the node supplies it). */
export interface PreconfSource {
  subscribe(listener: (p: Preconfirmation) => void): () => void;
}

const q = (v: bigint | number): string => `0x${v.toString(16)}`;

export function formatPreconfirmation(p: Preconfirmation): JsonObject {
  return {
    blockNumber: q(p.blockNumber),
    round: q(p.round),
    index: q(p.index),
    last: p.last,
    parentHash: p.parentHash,
    timestamp: q(p.timestamp),
    proposer: p.proposer,
    signature: p.signature,
    fragment: p.fragment,
    transactions: p.transactions,
    receipts: p.receipts,
  };
}

/**
 * The same as a Flashblocks payload (Base / OP, `newFlashblocks`): payload_id, index, base on
 * index 0, diff, metadata with receipts by transaction hash (ADR 0174). Fields dseq cannot fill
 * from a fragment (state_root, receipts_root, block_hash before the seal) are zero hashes.
 */
export function formatFlashblock(p: Preconfirmation): JsonObject {
  const zero = `0x${"00".repeat(32)}`;
  const receipts: JsonObject = {};
  for (const r of p.receipts) if (typeof r.transactionHash === "string") receipts[r.transactionHash] = r;
  const out: JsonObject = {
    payload_id: `0x${p.parentHash.slice(2, 10)}${p.round.toString(16).padStart(8, "0")}`,
    index: p.index,
  };
  if (p.index === 0) {
    out.base = {
      parent_hash: p.parentHash,
      block_number: q(p.blockNumber),
      timestamp: q(p.timestamp),
      fee_recipient: p.proposer,
    };
  }
  out.diff = {
    state_root: zero,
    receipts_root: zero,
    block_hash: zero,
    gas_used: q(p.gasUsed ?? 0n),
    transactions: p.transactions,
    withdrawals: [],
  };
  out.metadata = {
    block_number: Number(p.blockNumber),
    receipts,
    new_account_balances: {},
    proposer: p.proposer,
    signature: p.signature,
    fragment: p.fragment,
  };
  return out;
}

type Sub = { id: string; session: Session } & (
  | { kind: "preconfirmations" }
  | { kind: "newFlashblocks" }
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
  private preconfs: PreconfSource | undefined;
  private offPreconfs: (() => void) | undefined;

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

  /** The preconfirmation source (ADR 0170); without one the two preconf subscriptions are refused. */
  setPreconfSource(source: PreconfSource | undefined): void {
    this.offPreconfs?.();
    this.offPreconfs = undefined;
    this.preconfs = source;
    if (source) this.offPreconfs = source.subscribe((p) => this.onPreconf(p));
  }

  get preconfSource(): PreconfSource | undefined {
    return this.preconfs;
  }

  subscribe(session: Session, kind: unknown, arg: unknown): string {
    const id = newId();
    let sub: Sub;
    if (kind === "preconfirmations" || kind === "newFlashblocks") {
      if (this.preconfs === undefined) {
        throw new RpcError(
          RpcErrorCode.InvalidParams,
          `no "${kind}" subscription: this node has no preconfirmations`,
        );
      }
      sub = { id, kind, session };
    } else if (kind === "newHeads") sub = { id, kind, session };
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

  private onPreconf(p: Preconfirmation): void {
    const subs = [...this.subs.values()];
    const plain = subs.some((s) => s.kind === "preconfirmations") ? formatPreconfirmation(p) : undefined;
    const flash = subs.some((s) => s.kind === "newFlashblocks") ? formatFlashblock(p) : undefined;
    for (const s of subs) {
      if (s.kind === "preconfirmations" && plain) this.send(s, plain);
      else if (s.kind === "newFlashblocks" && flash) this.send(s, flash);
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
    this.setPreconfSource(undefined);
    for (const off of this.offs) off();
    this.subs.clear();
  }
}
