import type { BatchDBOp, DB, EncodingOpts } from "@ethereumjs/util";
import type { Level } from "level";

export type ChainLevel = Level<Uint8Array, Uint8Array>;

/** LevelDB key prefix of state-trie nodes and contract code (content-addressed). */
export const STATE_PREFIX = 0x73; // "s"

function stateKey(keyHex: string): Uint8Array {
  const b = Buffer.from(keyHex, "hex");
  const out = new Uint8Array(b.length + 1);
  out[0] = STATE_PREFIX;
  out.set(b, 1);
  return out;
}

/**
 * Read side of the persisted state trie: LevelDB plus a bounded cache. Every key is a hash of
 * its value (trie nodes, code), so the cache never goes stale and is shared by every state
 * view of the chain.
 */
export class NodeStore {
  readonly db: ChainLevel;
  // Two generations approximate an LRU without per-hit bookkeeping: hits in `old` move to
  // `young`; when `young` is full it becomes `old` and the previous `old` is dropped.
  private young = new Map<string, Uint8Array>();
  private old = new Map<string, Uint8Array>();
  private readonly generation: number;

  constructor(db: ChainLevel, cacheSize = 200_000) {
    this.db = db;
    this.generation = Math.max(1, Math.floor(cacheSize / 2));
  }

  async get(keyHex: string): Promise<Uint8Array | undefined> {
    const y = this.young.get(keyHex);
    if (y !== undefined) return y;
    const o = this.old.get(keyHex);
    if (o !== undefined) {
      this.remember(keyHex, o);
      return o;
    }
    const v = await this.db.get(stateKey(keyHex));
    if (v !== undefined) this.remember(keyHex, v);
    return v;
  }

  remember(keyHex: string, value: Uint8Array): void {
    if (this.young.size >= this.generation) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(keyHex, value);
  }

  /** Batch operations that persist `writes` (appended to a commit batch by the caller). */
  toBatch(writes: Map<string, Uint8Array>): { type: "put"; key: Uint8Array; value: Uint8Array }[] {
    const ops: { type: "put"; key: Uint8Array; value: Uint8Array }[] = [];
    for (const [k, v] of writes) ops.push({ type: "put", key: stateKey(k), value: v });
    return ops;
  }

  /** Call after the batch holding `writes` is durable. */
  persisted(writes: Map<string, Uint8Array>): void {
    for (const [k, v] of writes) this.remember(k, v);
  }
}

/**
 * The `DB` an @ethereumjs trie writes to while a block executes: writes stay in memory (so a
 * block that is built or re-executed but never committed leaves nothing behind) and reads fall
 * through to the parent overlay (a pending state) and then to the persisted store. Deletes are
 * ignored: nodes are shared between states and the trie runs without pruning.
 *
 * Durability rests on this: every trie and code write of execution (FastStateManager's
 * `batchPut`, `updateTrie`, the stock trie's puts) lands here, never in LevelDB, and reaches
 * the disk only inside `commit`'s one batch, which is fsynced with `syncWrites`. Should a node
 * ever be written to LevelDB on the side, unsynced, before that batch, it would still be safe:
 * LevelDB appends all writes to one ordered log, so syncing the commit's record makes every
 * earlier record durable. What must not happen is a node the new head needs written after it.
 */
export class OverlayDB implements DB<string, Uint8Array> {
  readonly store: NodeStore;
  readonly base: OverlayDB | undefined;
  readonly writes = new Map<string, Uint8Array>();

  constructor(store: NodeStore, base?: OverlayDB) {
    this.store = store;
    this.base = base;
  }

  async get(key: string, _opts?: EncodingOpts): Promise<Uint8Array | undefined> {
    const w = this.writes.get(key);
    if (w !== undefined) return w;
    for (let o = this.base; o !== undefined; o = o.base) {
      const v = o.writes.get(key);
      if (v !== undefined) return v;
    }
    return this.store.get(key);
  }

  async put(key: string, val: Uint8Array, _opts?: EncodingOpts): Promise<void> {
    this.writes.set(key, typeof val === "string" ? Buffer.from(val, "hex") : val);
  }

  async del(_key: string, _opts?: EncodingOpts): Promise<void> {}

  async batch(ops: BatchDBOp<string, Uint8Array>[]): Promise<void> {
    for (const op of ops) {
      if (op.type === "put") {
        const key = typeof op.key === "string" ? op.key : Buffer.from(op.key as Uint8Array).toString("hex");
        await this.put(key, op.value);
      }
    }
  }

  shallowCopy(): DB<string, Uint8Array> {
    return this;
  }

  async open(): Promise<void> {}

  /** All writes of this overlay and its pending bases, oldest first. */
  collectWrites(): Map<string, Uint8Array> {
    const chain: OverlayDB[] = [];
    for (let o: OverlayDB | undefined = this; o !== undefined; o = o.base) chain.unshift(o);
    if (chain.length === 1) return this.writes;
    const all = new Map<string, Uint8Array>();
    for (const o of chain) for (const [k, v] of o.writes) all.set(k, v);
    return all;
  }
}
