/** Log queries over committed blocks: bloom pre-check, then receipts. */
import type { Hex } from "@dseq/common";
import { bloomMatches } from "./bloom.ts";
import { type Services, tagNumber } from "./context.ts";
import { RpcError, RpcErrorCode } from "./errors.ts";
import { formatLog, type JsonObject } from "./format.ts";
import type { BlockRef, LogFilter } from "./params.ts";
import type { BlockData, LogData, ReceiptData } from "./types.ts";

export function logMatches(log: LogData, f: Pick<LogFilter, "addresses" | "topics">): boolean {
  if (f.addresses.length > 0 && !f.addresses.includes(log.address.toLowerCase() as Hex)) return false;
  if (f.topics.length > log.topics.length) return false;
  for (let i = 0; i < f.topics.length; i++) {
    const want = f.topics[i];
    if (want === null || want === undefined) continue;
    const have = (log.topics[i] as Hex).toLowerCase() as Hex;
    if (!want.includes(have)) return false;
  }
  return true;
}

/** All logs of one block that match, formatted. */
export function blockLogs(
  block: BlockData,
  receipts: ReceiptData[],
  f: Pick<LogFilter, "addresses" | "topics">,
): JsonObject[] {
  const out: JsonObject[] = [];
  const h = block.header;
  let logIndex = 0;
  for (let i = 0; i < receipts.length; i++) {
    const r = receipts[i] as ReceiptData;
    for (const log of r.logs) {
      if (logMatches(log, f)) {
        out.push(
          formatLog(log, {
            blockHash: h.hash,
            blockNumber: h.number,
            blockTimestamp: h.timestamp,
            transactionHash: block.transactions[i]?.hash ?? "0x",
            transactionIndex: i,
            logIndex,
          }),
        );
      }
      logIndex++;
    }
  }
  return out;
}

function refNumber(svc: Services, ref: BlockRef | undefined, fallback: bigint): bigint {
  if (ref === undefined) return fallback;
  if (ref.kind === "tag") return tagNumber(svc.chain, ref.tag);
  if (ref.kind === "number") return ref.number;
  throw new RpcError(RpcErrorCode.InvalidParams, "block hash not allowed in a range");
}

/** Resolves fromBlock/toBlock with geth's checks (reversed range, beyond head, range cap). */
export function resolveRange(svc: Services, f: LogFilter): { from: bigint; to: bigint } {
  const head = svc.chain.heads().latest;
  const from = refNumber(svc, f.fromBlock, head);
  const to = refNumber(svc, f.toBlock, head);
  if (from > to) throw new RpcError(RpcErrorCode.InvalidParams, "invalid block range params");
  if (to > head)
    throw new RpcError(RpcErrorCode.InvalidParams, "block range extends beyond current head block");
  if (to - from + 1n > BigInt(svc.opts.maxLogsBlockRange)) {
    throw new RpcError(
      RpcErrorCode.InvalidParams,
      `exceed maximum block range: ${svc.opts.maxLogsBlockRange}`,
    );
  }
  return { from, to };
}

function tooMany(limit: number): RpcError {
  return new RpcError(RpcErrorCode.LimitExceeded, `query returned more than ${limit} results`);
}

/** Logs of blocks [from, to] matching the filter. */
export async function rangeLogs(
  svc: Services,
  f: LogFilter,
  from: bigint,
  to: bigint,
  signal?: AbortSignal,
): Promise<JsonObject[]> {
  const out: JsonObject[] = [];
  for (let n = from; n <= to; n++) {
    if (signal?.aborted) throw signal.reason;
    const header = await svc.chain.getHeader(n);
    if (header === undefined) break;
    if (!bloomMatches(header.logsBloom, f.addresses, f.topics)) continue;
    const [block, receipts] = await Promise.all([
      svc.chain.getBlockByHash(header.hash),
      svc.chain.getReceipts(header.hash),
    ]);
    if (block === undefined || receipts === undefined) continue;
    out.push(...blockLogs(block, receipts, f));
    if (out.length > svc.opts.maxLogsResults) throw tooMany(svc.opts.maxLogsResults);
  }
  return out;
}

/** eth_getLogs: by block hash or by range. */
export async function queryLogs(svc: Services, f: LogFilter, signal?: AbortSignal): Promise<JsonObject[]> {
  if (f.blockHash !== undefined) {
    const block = await svc.chain.getBlockByHash(f.blockHash);
    if (block === undefined) throw new RpcError(RpcErrorCode.Server, "unknown block");
    const receipts = (await svc.chain.getReceipts(block.header.hash)) ?? [];
    const logs = blockLogs(block, receipts, f);
    if (logs.length > svc.opts.maxLogsResults) throw tooMany(svc.opts.maxLogsResults);
    return logs;
  }
  const { from, to } = resolveRange(svc, f);
  return rangeLogs(svc, f, from, to, signal);
}
