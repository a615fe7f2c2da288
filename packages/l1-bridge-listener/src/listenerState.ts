import type { Hex } from "viem";

/**
 * A block the listener read and remembers: range ends and every block it took logs from.
 * `undo` restores the sequencer amounts this block changed, so a rewind puts the
 * `LockUpdate` delta bookkeeping back where the ancestor left it.
 */
export type StoredBlock = {
  readonly number: bigint;
  readonly hash: Hex;
  readonly undo: readonly (readonly [sequencerId: bigint, previous: bigint | undefined])[];
  /** Seqs of the events this block produced: `seqFrom <= seq < seqTo` (equal when none). */
  readonly seqFrom: number;
  readonly seqTo: number;
};

/**
 * Everything the pure core knows, persisted as one value. `recent` is ascending by number and
 * its last entry is the cursor: the highest block fully read and confirmed.
 */
export type ListenerState = {
  readonly recent: readonly StoredBlock[];
  /** Locked amount per sequencer id, as of the cursor (LockUpdate carries absolute amounts). */
  readonly amounts: ReadonlyMap<bigint, bigint>;
  /** Next event `seq`: never reused, also not after a rewind. */
  readonly nextSeq: number;
};

/** Parent hash of block 0: a listener that starts at genesis links to it. */
export const GENESIS_PARENT_HASH: Hex = `0x${"00".repeat(32)}`;

/**
 * The state before reading `first`: the cursor is `first - 1` with the hash the L1 gave it, and
 * the amounts the LockingPool held then (sequencers locked before `first`, e.g. the genesis set).
 */
export function initialListenerState(
  before: { number: bigint; hash: Hex },
  amounts: ReadonlyMap<bigint, bigint> = new Map(),
): ListenerState {
  return {
    recent: [{ number: before.number, hash: before.hash, undo: [], seqFrom: 0, seqTo: 0 }],
    amounts: new Map(amounts),
    nextSeq: 0,
  };
}

export function cursorOf(state: ListenerState): StoredBlock {
  const c = state.recent[state.recent.length - 1];
  if (!c) throw new Error("listener state without a cursor");
  return c;
}

/**
 * Drops remembered blocks older than `depth` below the cursor, keeping the newest one below
 * that window: it stays the bottom a walk-back can reach.
 */
export function pruneRecent(recent: readonly StoredBlock[], depth: bigint): StoredBlock[] {
  const top = recent[recent.length - 1];
  if (!top) return [];
  const floor = top.number - depth;
  let first = recent.findIndex((b) => b.number >= floor);
  if (first === -1) first = recent.length - 1;
  return recent.slice(Math.max(0, first - 1));
}
