import { DseqError } from "@dseq/common";

export type TxPoolOptions = {
  /** The L2 chain id; transactions signed for another chain are rejected. */
  chainId: bigint;
  /** Largest accepted encoded transaction (geth: 4 slots of 32 KiB). */
  maxTxSize: number;
  /** Smallest accepted `maxPriorityFeePerGas` (or `gasPrice`), in wei. */
  minTip: bigint;
  /** A replacement must raise both fee cap and tip by at least this many percent. */
  priceBump: bigint;
  /** Most transactions (pending + queued) one sender may have in the pool. */
  accountSlots: number;
  /** Most transactions in the pool (pending + queued). */
  globalSlots: number;
  /** Most queued (not yet executable) transactions in the pool. */
  globalQueue: number;
  /** A remote transaction that is queued this long after it arrived is dropped (geth: 3 h). */
  lifetimeMs: number;
  /** Accept legacy transactions without EIP-155 replay protection. */
  allowUnprotectedTxs: boolean;
  /** File of the local-transaction journal; no journal when undefined. */
  journalPath?: string;
};

export const defaultTxPoolOptions: Omit<TxPoolOptions, "chainId"> = {
  maxTxSize: 4 * 32 * 1024,
  minTip: 1n,
  priceBump: 10n,
  accountSlots: 64,
  globalSlots: 10_240,
  globalQueue: 2_048,
  lifetimeMs: 3 * 60 * 60 * 1000,
  allowUnprotectedTxs: false,
};

/** Throws `TXPOOL_BAD_OPTIONS` for limits that cannot work. */
export function checkOptions(o: TxPoolOptions): void {
  const bad = (field: string, why: string) => {
    throw new DseqError("TXPOOL_BAD_OPTIONS", `txpool option ${field} ${why}`, { details: { field } });
  };
  if (o.chainId <= 0n) bad("chainId", "must be positive");
  for (const f of ["accountSlots", "globalSlots", "globalQueue", "maxTxSize"] as const) {
    if (!Number.isSafeInteger(o[f]) || o[f] < 1) bad(f, "must be a positive integer");
  }
  if (o.priceBump < 0n) bad("priceBump", "cannot be negative");
  if (o.minTip < 0n) bad("minTip", "cannot be negative");
  if (!(o.lifetimeMs > 0)) bad("lifetimeMs", "must be positive");
}
