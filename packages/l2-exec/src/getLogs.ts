import { hexToBytes } from "@ethereumjs/util";
import { Bloom } from "@ethereumjs/vm";
import { type BlockReadContext, getReceipts, requireBlock } from "./blockReads.ts";
import type { BlockRef } from "./chainTypes.ts";
import { L2ExecError, L2ExecErrorCode } from "./errors.ts";
import type { Hex, LogInfo } from "./receipts.ts";
import { bloomKey } from "./store.ts";

export type LogFilter = {
  fromBlock?: BlockRef;
  toBlock?: BlockRef;
  blockHash?: Hex | Uint8Array;
  address?: Hex | Hex[];
  /** Per position: null = any, one topic, or any of several. */
  topics?: (Hex | Hex[] | null)[];
};

/**
 * Logs of committed blocks matching the filter. Each block's bloom is checked first (kept
 * apart from the block, so skipping costs one small read); receipts are read only on a hit.
 */
export async function getLogs(
  ctx: BlockReadContext,
  filter: LogFilter,
  opts: { maxBlocks?: number } = {},
): Promise<LogInfo[]> {
  const addresses =
    filter.address === undefined
      ? []
      : (Array.isArray(filter.address) ? filter.address : [filter.address]).map((a) => a.toLowerCase());
  const topics = (filter.topics ?? []).map((topic) =>
    topic === null ? null : (Array.isArray(topic) ? topic : [topic]).map((x) => x.toLowerCase()),
  );
  let from: bigint;
  let to: bigint;
  if (filter.blockHash !== undefined) {
    const b = await requireBlock(ctx, filter.blockHash);
    from = b.header.number;
    to = from;
  } else {
    from = (await requireBlock(ctx, filter.fromBlock ?? "latest")).header.number;
    to = (await requireBlock(ctx, filter.toBlock ?? "latest")).header.number;
  }
  const max = BigInt(opts.maxBlocks ?? 100_000);
  if (to - from + 1n > max) {
    throw new L2ExecError(L2ExecErrorCode.InvalidConfig, `log range over ${max} blocks`);
  }
  const out: LogInfo[] = [];
  for (let n = from; n <= to; n++) {
    const bits = await ctx.db.get(bloomKey(n));
    if (bits === undefined) continue;
    const bloom = new Bloom(bits, ctx.common);
    if (addresses.length > 0 && !addresses.some((a) => bloom.check(hexToBytes(a as Hex)))) continue;
    let skip = false;
    for (const alts of topics) {
      if (alts === null || alts.length === 0) continue;
      if (!alts.some((topic) => bloom.check(hexToBytes(topic as Hex)))) {
        skip = true;
        break;
      }
    }
    if (skip) continue;
    const receipts = await getReceipts(ctx, n);
    for (const r of receipts ?? []) {
      for (const log of r.logs) {
        if (addresses.length > 0 && !addresses.includes(log.address.toLowerCase())) continue;
        let ok = true;
        for (let i = 0; i < topics.length; i++) {
          const alts = topics[i];
          if (alts === null || alts === undefined || alts.length === 0) continue;
          const topic = log.topics[i];
          if (topic === undefined || !alts.includes(topic.toLowerCase())) {
            ok = false;
            break;
          }
        }
        if (ok) out.push(log);
      }
    }
  }
  return out;
}
