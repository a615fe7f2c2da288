import { TxPoolConfigError, TxPoolConfigErrorCode } from "./errors.ts";

export type TxPoolOptions = {
  /** The L2 chain id; transactions signed for another chain are rejected. */
  chainId: bigint;
  /**
   * Largest accepted encoded transaction (geth: 4 slots of 32 KiB). The limit applied is the
   * smaller of this and what one block can hold (`maxBlockBytes - BLOCK_HEADER_ALLOWANCE`).
   */
  maxTxSize: number;
  /**
   * The chain's cap on a block's size (`block.serialize()`, bytes; l2-exec's `maxBlockBytes`,
   * default 2 MiB). A transaction that could not fit even an otherwise empty block is refused
   * at admission, so it never sits in the pool being skipped by every builder.
   */
  maxBlockBytes: number;
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

/**
 * Bytes of a block that are not its one transaction, at most, when it has no L1 entries: the
 * header, the list prefixes, the empty uncle and withdrawal lists and the typed transaction's
 * own byte-string prefix. l2-exec budgets 670 bytes for these (a Prague header with a 32-byte
 * extraData; the sealed empty block is 648) plus up to 4 for the prefix; its test builds a
 * block holding one transaction of `maxBlockBytes - 1024` bytes.
 */
export const BLOCK_HEADER_ALLOWANCE = 1024;

/** The size limit admission applies: `maxTxSize`, or less when a block cannot hold that. */
export function effectiveMaxTxSize(o: Pick<TxPoolOptions, "maxTxSize" | "maxBlockBytes">): number {
  return Math.min(o.maxTxSize, o.maxBlockBytes - BLOCK_HEADER_ALLOWANCE);
}

export const defaultTxPoolOptions: Omit<TxPoolOptions, "chainId"> = {
  maxTxSize: 4 * 32 * 1024,
  maxBlockBytes: 2 * 1024 * 1024,
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
    throw new TxPoolConfigError(TxPoolConfigErrorCode.BadOptions, `txpool option ${field} ${why}`, {
      details: { field },
    });
  };
  if (o.chainId <= 0n) bad("chainId", "must be positive");
  for (const f of ["accountSlots", "globalSlots", "globalQueue", "maxTxSize"] as const) {
    if (!Number.isSafeInteger(o[f]) || o[f] < 1) bad(f, "must be a positive integer");
  }
  if (!Number.isSafeInteger(o.maxBlockBytes) || o.maxBlockBytes <= BLOCK_HEADER_ALLOWANCE) {
    bad("maxBlockBytes", `must be an integer above ${BLOCK_HEADER_ALLOWANCE}`);
  }
  if (o.priceBump < 0n) bad("priceBump", "cannot be negative");
  if (o.minTip < 0n) bad("minTip", "cannot be negative");
  if (!(o.lifetimeMs > 0)) bad("lifetimeMs", "must be positive");
}
