import type { Block } from "@ethereumjs/block";
import type { TypedTransaction } from "@ethereumjs/tx";
import type { OverlayDB } from "./nodeStore.ts";
import type { Hex } from "./receipts.ts";
import type { HeadName } from "./store.ts";

/** The types the reads and writes of `Chain` share; each operation's own types sit in its file. */

export type ChainEvents = {
  /** A block became the latest head (payload is plain and cloneable). */
  "chain.committed": {
    number: bigint;
    hash: Hex;
    parentHash: Hex;
    stateRoot: Hex;
    txCount: number;
    gasUsed: bigint;
    timestamp: bigint;
  };
  /** Safe or finalized head moved. */
  "chain.head": { name: HeadName; number: bigint; hash: Hex };
};

/** A state that is not committed: pass it to reads to query the pending block's post-state. */
export type PendingState = { readonly block: Block; readonly overlay: OverlayDB };

export type BlockRef = "latest" | "safe" | "finalized" | "earliest" | bigint | number | Hex | Uint8Array;
/** Where a read runs: a committed block or a pending (built or executed, uncommitted) state. */
export type StateRef = BlockRef | PendingState;

export type TxLookup = {
  tx: TypedTransaction;
  blockHash: Hex;
  blockNumber: bigint;
  index: number;
  block: Block;
};

export type AccountInfo = { nonce: bigint; balance: bigint; codeHash: Hex; storageRoot: Hex };

export const isPending = (r: StateRef | undefined): r is PendingState =>
  typeof r === "object" && r !== null && !(r instanceof Uint8Array) && "overlay" in r;
