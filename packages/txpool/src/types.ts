import type { Hex } from "@dseq/common";
import type { TypedTransaction } from "@ethereumjs/tx";
import type { TxPoolError } from "./errors.ts";

/** Lowercase 0x-prefixed 20-byte address. */
export type Address = Hex;

/**
 * What the pool needs to know of an account at the current head. `hasCode`: the account has
 * code (an EIP-7702 delegation, or a contract); such senders get at most one transaction in
 * flight, as in geth. Omitted means no code.
 */
export type AccountState = { nonce: bigint; balance: bigint; hasCode?: boolean };

/**
 * Account reads at the current head. The node implements it on top of l2-exec; it must
 * reflect the head last passed to `onNewHead` (or `start`).
 */
export interface StateReader {
  getAccount(address: Address): Promise<AccountState> | AccountState;
}

/** The outcome of admitting one transaction (`addRemotes`, `addLocals`). */
export type AddResult =
  | { ok: true; hash: Hex; from: Address; nonce: bigint; pending: boolean }
  | { ok: false; hash?: Hex; error: TxPoolError };

/** What the pool needs to know of the chain head; the node passes it on every commit. */
export type PoolHead = {
  number: bigint;
  /** Gas limit of the next block: a transaction asking more can never be included. */
  gasLimit: bigint;
  /** Base fee of the next block: effective tips (ordering, eviction) are computed at it. */
  nextBaseFee: bigint;
  /** Hashes of the transactions the committed block included (for the removal reason). */
  includedTxHashes?: readonly Hex[];
};

/** A transaction the pool holds. Treat as read-only. */
export type PooledTx = {
  readonly hash: Hex;
  readonly from: Address;
  readonly nonce: bigint;
  readonly type: number;
  readonly gasLimit: bigint;
  /** `maxFeePerGas`, or `gasPrice` for legacy and EIP-2930. */
  readonly feeCap: bigint;
  /** `maxPriorityFeePerGas`, or `gasPrice` for legacy and EIP-2930. */
  readonly tipCap: bigint;
  readonly value: bigint;
  /** `gasLimit * feeCap + value`: what the sender must hold. */
  readonly cost: bigint;
  readonly raw: Uint8Array;
  readonly tx: TypedTransaction;
  /** EIP-7702: the accounts whose authorizations it carries (valid signatures only). */
  readonly authorities: readonly Address[];
  readonly local: boolean;
  /** Arrival order, breaks ties between equal tips (first seen first). */
  readonly seq: number;
  readonly addedAt: number;
};

export type RemovalReason =
  /** included in a committed block */
  | "included"
  /** its nonce was used by another transaction of the sender */
  | "nonce-too-low"
  /** a transaction with the same nonce and a higher fee replaced it */
  | "replaced"
  /** dropped to make room (pool or sender limit) */
  | "evicted"
  /** queued for longer than the lifetime */
  | "expired"
  /** the sender can no longer pay for it */
  | "insufficient-funds"
  /** asks more gas than the block gas limit now allows */
  | "exceeds-block-gas-limit";

export type TxPoolEvents = {
  "txpool.added": {
    hash: Hex;
    from: Address;
    nonce: bigint;
    raw: Uint8Array;
    local: boolean;
    /** Executable at once (else queued behind a nonce gap or funds). */
    pending: boolean;
    /** The `origin` given to `addRemotes` / `addLocals`, if any. */
    origin?: string;
  };
  "txpool.removed": { hash: Hex; from: Address; nonce: bigint; reason: RemovalReason };
};
