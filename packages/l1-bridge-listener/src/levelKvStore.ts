import { Level } from "level";
import type { KvOp, KvStore } from "./kvStore.ts";

/** What the LevelDB store uses of a `level` database or sublevel opened with `view` encodings. */
export type LevelLike = {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  put(key: Uint8Array, value: Uint8Array): Promise<void>;
  batch(
    ops: ({ type: "put"; key: Uint8Array; value: Uint8Array } | { type: "del"; key: Uint8Array })[],
  ): Promise<void>;
  iterator(opts: { gte: Uint8Array; lt: Uint8Array }): AsyncIterable<[Uint8Array, Uint8Array]>;
};

/**
 * A KvStore on LevelDB. The node passes a sublevel of its own database:
 * `db.sublevel<Uint8Array, Uint8Array>("l1", {keyEncoding: "view", valueEncoding: "view"})`.
 */
export function createLevelKvStore(db: LevelLike): KvStore {
  return {
    get: (key) => db.get(key),
    put: (key, value) => db.put(key, value),
    batch: (ops: readonly KvOp[]) => db.batch(ops.map((o) => ({ ...o }))),
    async *range(gte, lt) {
      for await (const entry of db.iterator({ gte, lt })) yield entry;
    },
  };
}

/** Opens a LevelDB of its own at `path` (examples, tests, tools); the node uses a sublevel instead. */
export async function openLevelKvStore(path: string): Promise<{ store: KvStore; close(): Promise<void> }> {
  const db = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  return { store: createLevelKvStore(db as unknown as LevelLike), close: () => db.close() };
}
