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
