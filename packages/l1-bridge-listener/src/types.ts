import type { Address, Hex } from "viem";

/** Where an L1 event came from. `(blockHash, logIndex)` names one log on one fork, forever. */
export type L1Provenance = {
  readonly blockNumber: bigint;
  readonly blockHash: Hex;
  readonly logIndex: number;
  readonly transactionHash: Hex;
  /** The contract that emitted the log. */
  readonly address: Address;
};

/**
 * A stake change as the listener reports it. Kinds and fields mirror sequencer-rotation's
 * `StakeChange`; `LockUpdate`'s absolute amount arrives here as the signed delta (`increase`
 * or `withdraw`) with the new absolute amount beside it.
 */
export type L1StakeChange =
  | {
      readonly kind: "lock";
      readonly owner: Address;
      readonly signer: Address;
      readonly signerPubkey: Hex;
      readonly amount: bigint;
      readonly rewardRecipient: Address;
      readonly totalLocked: bigint;
    }
  | {
      readonly kind: "increase";
      readonly amount: bigint;
      readonly newAmount: bigint;
      readonly totalLocked: bigint;
    }
  | {
      readonly kind: "withdraw";
      readonly amount: bigint;
      readonly newAmount: bigint;
      readonly totalLocked: bigint;
    }
  | {
      readonly kind: "unlockStart";
      readonly owner: Address;
      readonly unlockClaimTime: bigint;
      readonly amount: bigint;
    }
  | {
      readonly kind: "unlockComplete";
      readonly owner: Address;
      readonly amount: bigint;
      readonly totalLocked: bigint;
    }
  | {
      readonly kind: "signerUpdate";
      readonly oldSigner: Address;
      readonly signer: Address;
      readonly signerPubkey: Hex;
    }
  | {
      readonly kind: "rewardRecipientUpdate";
      readonly oldRecipient: Address;
      readonly rewardRecipient: Address;
    }
  | { readonly kind: "ownerChange"; readonly oldOwner: Address; readonly owner: Address };

export type L1StakeChangeKind = L1StakeChange["kind"];

/** One confirmed L1 event, plain and cloneable. `seq` is the listener's own counter, never reused. */
export type L1Event =
  | {
      readonly type: "stake";
      readonly seq: number;
      readonly sequencerId: bigint;
      /** LockingPool's per-sequencer nonce: (sequencerId, nonce) applies once. */
      readonly nonce: bigint;
      readonly change: L1StakeChange;
      readonly l1: L1Provenance;
    }
  | {
      readonly type: "params";
      readonly seq: number;
      readonly minLock: bigint;
      readonly maxLock: bigint;
      readonly exitDelay: bigint;
      readonly l1: L1Provenance;
    }
  | {
      readonly type: "deposit";
      readonly seq: number;
      /** DepositBridge's nonce, 1, 2, 3, ...: one L2 credit each. */
      readonly nonce: bigint;
      readonly from: Address;
      readonly to: Address;
      readonly amount: bigint;
      readonly l1: L1Provenance;
    }
  | {
      readonly type: "batchAppended";
      readonly seq: number;
      readonly batchIndex: bigint;
      readonly batchHash: Hex;
      readonly prevBatchHash: Hex;
      readonly firstBlock: bigint;
      readonly lastBlock: bigint;
      readonly lastBlockHash: Hex;
      readonly stateRoot: Hex;
      readonly dataKind: number;
      readonly dataHash: Hex;
      readonly submitter: Address;
      readonly l1: L1Provenance;
    }
  | {
      readonly type: "groupKeyRotated";
      readonly seq: number;
      readonly epoch: bigint;
      readonly oldKey: Hex;
      readonly newKey: Hex;
      readonly l1: L1Provenance;
    };

export type L1EventType = L1Event["type"];

/** A block the listener read: enough to link it to its parent. */
export type L1BlockHeader = { readonly number: bigint; readonly hash: Hex; readonly parentHash: Hex };

/** A log as viem's `getLogs({events, strict: true})` returns it (decoded), with what the core reads. */
export type DecodedL1Log = {
  readonly address: Address;
  readonly blockNumber: bigint;
  readonly blockHash: Hex;
  readonly logIndex: number;
  readonly transactionHash: Hex;
  readonly removed?: boolean;
  readonly eventName: string;
  readonly args: Readonly<Record<string, unknown>>;
};

/** The three contracts the listener reads. */
export type L1ListenerContracts = {
  readonly lockingPool: Address;
  readonly depositBridge: Address;
  readonly batchInbox: Address;
};
