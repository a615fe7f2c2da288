import type { Common } from "@ethereumjs/common";
import { MerklePatriciaTrie } from "@ethereumjs/mpt";
import { Caches, type MerkleStateManager } from "@ethereumjs/statemanager";
import { ValueEncoding } from "@ethereumjs/util";
import { FastStateManager } from "./fastStateManager.ts";
import { type NodeStore, OverlayDB } from "./nodeStore.ts";

export type StateView = { stateManager: MerkleStateManager; overlay: OverlayDB };

/**
 * A state manager at `stateRoot` whose trie writes land in a fresh in-memory overlay. Reads
 * go overlay -> `base` (a pending, uncommitted state) -> persisted store.
 */
export function openStateView(
  common: Common,
  store: NodeStore,
  stateRoot: Uint8Array,
  base?: OverlayDB,
): StateView {
  const overlay = new OverlayDB(store, base);
  const trie = new MerklePatriciaTrie({
    db: overlay,
    useKeyHashing: true,
    valueEncoding: ValueEncoding.Bytes,
    common,
    root: stateRoot,
  });
  const stateManager = new FastStateManager({ common, trie, caches: new Caches() });
  return { stateManager, overlay };
}
