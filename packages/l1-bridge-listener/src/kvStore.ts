/** One write of a batch. */
export type KvOp =
  | { readonly type: "put"; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: "del"; readonly key: Uint8Array };

/**
 * The storage the listener needs: bytes in, bytes out, atomic batches, ordered ranges. The node
 * passes a LevelDB sublevel (`createLevelKvStore`); anything with the same semantics will do.
 */
export interface KvStore {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  put(key: Uint8Array, value: Uint8Array): Promise<void>;
  /** All or nothing. */
  batch(ops: readonly KvOp[]): Promise<void>;
  /** Entries with `gte <= key < lt`, in key order. */
  range(gte: Uint8Array, lt: Uint8Array): AsyncIterable<readonly [Uint8Array, Uint8Array]>;
}
