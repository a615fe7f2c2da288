import type { Address, Hex } from "viem";
import { L1ListenerError, L1ListenerErrorCode } from "./errors.ts";
import { cursorOf, type ListenerState, pruneRecent, type StoredBlock } from "./listenerState.ts";
import type {
  DecodedL1Log,
  L1BlockHeader,
  L1Event,
  L1ListenerContracts,
  L1Provenance,
  L1StakeChange,
} from "./types.ts";

/** What the driver read for blocks `from..to` from one endpoint. */
export type RangeRead = {
  readonly from: bigint;
  readonly to: bigint;
  /** Headers of `from`, `to` and every block a log names (any order). */
  readonly headers: readonly L1BlockHeader[];
  readonly logs: readonly DecodedL1Log[];
};

export type ApplyRangeResult =
  | { readonly kind: "applied"; readonly state: ListenerState; readonly events: readonly L1Event[] }
  /** `from`'s parent is not the cursor: the chain changed below it; walk back. */
  | { readonly kind: "parentMismatch"; readonly cursor: StoredBlock; readonly parentHash: Hex }
  /** The answer contradicts itself: nothing applied; ask another endpoint. */
  | { readonly kind: "inconsistent"; readonly reason: string; readonly details: Record<string, unknown> };

export type ApplyRangeOptions = {
  readonly contracts: L1ListenerContracts;
  /** Blocks below the cursor whose hashes are kept for walk-backs. */
  readonly maxReorgDepth: bigint;
};

/**
 * The pure core of the listener: checks one range read against the cursor and itself, and turns
 * its logs into confirmed events in (block, logIndex) order. Nothing changes unless everything
 * in the read is consistent: `from` links to the cursor, every log's block hash is the header's
 * hash for that number, headers that are neighbours link, logs come from the three contracts.
 */
export function applyRange(state: ListenerState, read: RangeRead, opts: ApplyRangeOptions): ApplyRangeResult {
  const cursor = cursorOf(state);
  if (read.from !== cursor.number + 1n || read.to < read.from) {
    throw new L1ListenerError(L1ListenerErrorCode.InvariantBroken, "range does not continue the cursor", {
      details: { cursor: cursor.number, from: read.from, to: read.to },
    });
  }
  const headers = new Map<bigint, L1BlockHeader>();
  for (const h of read.headers) {
    const seen = headers.get(h.number);
    if (seen && seen.hash !== h.hash) return bad("two headers for one number", { number: h.number });
    headers.set(h.number, h);
  }
  const first = headers.get(read.from);
  const last = headers.get(read.to);
  if (!first || !last) return bad("range end headers missing", { from: read.from, to: read.to });
  for (const h of headers.values()) {
    if (h.number < read.from || h.number > read.to)
      return bad("header outside the range", { number: h.number });
    const parent = headers.get(h.number - 1n);
    if (parent && parent.hash !== h.parentHash) {
      return bad("headers do not link", { number: h.number, parentHash: h.parentHash, parent: parent.hash });
    }
  }
  if (first.parentHash !== cursor.hash) {
    return { kind: "parentMismatch", cursor, parentHash: first.parentHash };
  }

  const wanted = new Set([
    opts.contracts.lockingPool,
    opts.contracts.depositBridge,
    opts.contracts.batchInbox,
  ]);
  const wantedLower = new Set([...wanted].map((a) => a.toLowerCase()));
  const logs = [...read.logs].sort((a, b) =>
    a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
  );
  const seenLogs = new Set<string>();
  for (const log of logs) {
    const h = headers.get(log.blockNumber);
    if (!h || h.hash !== log.blockHash) {
      return bad("log block hash differs from the header", {
        blockNumber: log.blockNumber,
        logBlockHash: log.blockHash,
        headerHash: h?.hash,
      });
    }
    if (log.removed)
      return bad("log marked removed", { blockNumber: log.blockNumber, logIndex: log.logIndex });
    if (!wantedLower.has(log.address.toLowerCase()))
      return bad("log from another contract", { address: log.address });
    const id = `${log.blockHash}:${log.logIndex}`;
    if (seenLogs.has(id))
      return bad("duplicate log", { blockNumber: log.blockNumber, logIndex: log.logIndex });
    seenLogs.add(id);
  }

  const amounts = new Map(state.amounts);
  const undoByBlock = new Map<bigint, [bigint, bigint | undefined][]>();
  const setAmount = (block: bigint, id: bigint, value: bigint | undefined): void => {
    let undo = undoByBlock.get(block);
    if (!undo) {
      undo = [];
      undoByBlock.set(block, undo);
    }
    undo.push([id, amounts.get(id)]);
    if (value === undefined) amounts.delete(id);
    else amounts.set(id, value);
  };
  const events: L1Event[] = [];
  let seq = state.nextSeq;
  const seqRange = new Map<bigint, [number, number]>();
  const lockingPool = opts.contracts.lockingPool.toLowerCase();
  for (const log of logs) {
    const ev = logToEvent(log, seq, log.address.toLowerCase() === lockingPool, amounts, setAmount);
    if (ev) {
      events.push(ev);
      const r = seqRange.get(log.blockNumber);
      if (r) r[1] = seq + 1;
      else seqRange.set(log.blockNumber, [seq, seq + 1]);
      seq++;
    }
  }

  const added: StoredBlock[] = [];
  const blocks = new Set<bigint>([...logs.map((l) => l.blockNumber), read.to]);
  for (const n of [...blocks].sort((a, b) => (a < b ? -1 : 1))) {
    const h = headers.get(n) as L1BlockHeader;
    const [seqFrom, seqTo] = seqRange.get(n) ?? [seq, seq];
    added.push({ number: n, hash: h.hash, undo: undoByBlock.get(n) ?? [], seqFrom, seqTo });
  }
  const recent = pruneRecent([...state.recent, ...added], opts.maxReorgDepth);
  return { kind: "applied", state: { recent, amounts, nextSeq: seq }, events };
}

function bad(reason: string, details: Record<string, unknown>): ApplyRangeResult {
  return { kind: "inconsistent", reason, details };
}

type SetAmount = (block: bigint, id: bigint, value: bigint | undefined) => void;

function logToEvent(
  log: DecodedL1Log,
  seq: number,
  fromLockingPool: boolean,
  amounts: ReadonlyMap<bigint, bigint>,
  setAmount: SetAmount,
): L1Event | undefined {
  const a = log.args as Record<string, unknown>;
  const l1: L1Provenance = {
    blockNumber: log.blockNumber,
    blockHash: log.blockHash,
    logIndex: log.logIndex,
    transactionHash: log.transactionHash,
    address: log.address,
  };
  const stake = (sequencerId: bigint, nonce: bigint, change: L1StakeChange): L1Event => ({
    type: "stake",
    seq,
    sequencerId,
    nonce,
    change,
    l1,
  });
  if (fromLockingPool) {
    switch (log.eventName) {
      case "Locked": {
        const id = a.sequencerId as bigint;
        if (amounts.has(id)) throw invariant("Locked for a sequencer id already seen", log, { id });
        setAmount(log.blockNumber, id, a.amount as bigint);
        return stake(id, a.nonce as bigint, {
          kind: "lock",
          owner: a.owner as Address,
          signer: a.signer as Address,
          signerPubkey: a.signerPubkey as Hex,
          amount: a.amount as bigint,
          rewardRecipient: a.rewardRecipient as Address,
          totalLocked: a.total as bigint,
        });
      }
      case "LockUpdate": {
        const id = a.sequencerId as bigint;
        const previous = amounts.get(id);
        if (previous === undefined) throw invariant("LockUpdate for a sequencer never locked", log, { id });
        const newAmount = a.newAmount as bigint;
        setAmount(log.blockNumber, id, newAmount);
        const totalLocked = a.total as bigint;
        if (newAmount === previous) return undefined;
        return stake(
          id,
          a.nonce as bigint,
          newAmount > previous
            ? { kind: "increase", amount: newAmount - previous, newAmount, totalLocked }
            : { kind: "withdraw", amount: previous - newAmount, newAmount, totalLocked },
        );
      }
      case "UnlockInit":
        return stake(a.sequencerId as bigint, a.nonce as bigint, {
          kind: "unlockStart",
          owner: a.owner as Address,
          unlockClaimTime: a.unlockClaimTime as bigint,
          amount: a.amount as bigint,
        });
      case "Unlocked": {
        const id = a.sequencerId as bigint;
        if (!amounts.has(id)) throw invariant("Unlocked for a sequencer never locked", log, { id });
        setAmount(log.blockNumber, id, undefined);
        return stake(id, a.nonce as bigint, {
          kind: "unlockComplete",
          owner: a.owner as Address,
          amount: a.amount as bigint,
          totalLocked: a.total as bigint,
        });
      }
      case "SignerChange":
        return stake(a.sequencerId as bigint, a.nonce as bigint, {
          kind: "signerUpdate",
          oldSigner: a.oldSigner as Address,
          signer: a.newSigner as Address,
          signerPubkey: a.signerPubkey as Hex,
        });
      case "RewardRecipientChanged":
        return stake(a.sequencerId as bigint, a.nonce as bigint, {
          kind: "rewardRecipientUpdate",
          oldRecipient: a.oldRecipient as Address,
          rewardRecipient: a.newRecipient as Address,
        });
      case "OwnerChanged":
        return stake(a.sequencerId as bigint, a.nonce as bigint, {
          kind: "ownerChange",
          oldOwner: a.oldOwner as Address,
          owner: a.newOwner as Address,
        });
      case "ParamsChanged":
        return {
          type: "params",
          seq,
          minLock: a.minLock as bigint,
          maxLock: a.maxLock as bigint,
          exitDelay: a.exitDelay as bigint,
          l1,
        };
      default:
        return undefined;
    }
  }
  switch (log.eventName) {
    case "DepositInitiated":
      return {
        type: "deposit",
        seq,
        nonce: a.nonce as bigint,
        from: a.from as Address,
        to: a.to as Address,
        amount: a.amount as bigint,
        l1,
      };
    case "BatchAppended":
      return {
        type: "batchAppended",
        seq,
        batchIndex: a.batchIndex as bigint,
        batchHash: a.batchHash as Hex,
        prevBatchHash: a.prevBatchHash as Hex,
        firstBlock: a.firstBlock as bigint,
        lastBlock: a.lastBlock as bigint,
        lastBlockHash: a.lastBlockHash as Hex,
        stateRoot: a.stateRoot as Hex,
        dataKind: Number(a.dataKind),
        dataHash: a.dataHash as Hex,
        submitter: a.submitter as Address,
        l1,
      };
    case "GroupKeyRotated":
      return {
        type: "groupKeyRotated",
        seq,
        epoch: a.epoch as bigint,
        oldKey: a.oldKey as Hex,
        newKey: a.newKey as Hex,
        l1,
      };
    default:
      return undefined;
  }
}

function invariant(message: string, log: DecodedL1Log, details: Record<string, unknown>): L1ListenerError {
  return new L1ListenerError(L1ListenerErrorCode.InvariantBroken, message, {
    details: { ...details, blockNumber: log.blockNumber, blockHash: log.blockHash, logIndex: log.logIndex },
  });
}
