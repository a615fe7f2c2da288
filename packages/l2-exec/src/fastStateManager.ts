import { keccak256 } from "@dseq/crypto";
import type { MerklePatriciaTrie } from "@ethereumjs/mpt";
import { RLP } from "@ethereumjs/rlp";
import { MerkleStateManager } from "@ethereumjs/statemanager";
import { Account, concatBytes, createAddressFromString, unprefixedHexToBytes } from "@ethereumjs/util";
import { OverlayDB } from "./nodeStore.ts";
import { updateTrie } from "./trieUpdate.ts";

const CODE_PREFIX = Uint8Array.of(0x63); // "c", as MerkleStateManager prefixes code hashes

async function batchPut(
  trie: MerklePatriciaTrie,
  entries: { key: Uint8Array; value: Uint8Array }[],
): Promise<void> {
  const db = trie.database();
  const overlay = db.db instanceof OverlayDB && !db.hasCheckpoints() ? db.db : undefined;
  const nodes: [Uint8Array, Uint8Array][] = [];
  const root = await updateTrie(
    trie.root(),
    entries,
    overlay !== undefined
      ? (h) => overlay.get(Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString("hex"))
      : async (h) => (await db.get(h)) as Uint8Array | undefined,
    overlay !== undefined
      ? (h, enc) => {
          overlay.writes.set(Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString("hex"), enc);
        }
      : (h, enc) => {
          nodes.push([h, enc]);
        },
  );
  if (nodes.length > 0) await db.batch(nodes.map(([key, value]) => ({ type: "put" as const, key, value })));
  trie.root(root);
}

/**
 * MerkleStateManager whose `flush` (cache -> tries, run once per block before the state root)
 * applies all account writes, and all slot writes of each contract, as one batch trie update
 * (`updateTrie`) instead of one `MerklePatriciaTrie.put` per key. Deletions (emptied accounts,
 * zeroed slots) still go through the trie. Roots are identical (tested against the stock
 * manager and the execution-apis chain).
 */
export class FastStateManager extends MerkleStateManager {
  // With caches on, the trie changes only in `flush`, which runs when the outermost checkpoint
  // is committed or the state root is asked for; a block is never reverted after that (a
  // failed block's whole view is dropped). So the trie needs no checkpoints of its own: no
  // per-checkpoint node maps that record every read, no re-batching of them on commit.
  override async checkpoint(): Promise<void> {
    if (this._caches === undefined) return super.checkpoint();
    this._caches.checkpoint();
    this._checkpointCount++;
  }

  override async commit(): Promise<void> {
    if (this._caches === undefined) return super.commit();
    this._caches.commit();
    this._checkpointCount--;
    if (this._checkpointCount === 0) {
      await this.flush();
      this.originalStorageCache.clear();
    }
  }

  override async revert(): Promise<void> {
    if (this._caches === undefined) return super.revert();
    this._caches.revert();
    this._storageTries = {};
    this._checkpointCount--;
    if (this._checkpointCount === 0) {
      await this.flush();
      this.originalStorageCache.clear();
    }
  }

  override async flush(): Promise<void> {
    const caches = this._caches;
    if (caches === undefined) return super.flush();

    for (const [addrHex, elem] of caches.code?.flush() ?? []) {
      const code = elem.code;
      if (code === undefined) continue;
      const addr = createAddressFromString(`0x${addrHex}`);
      const codeHash = keccak256(code);
      await this._getCodeDB().put(
        this._prefixCodeHashes ? concatBytes(CODE_PREFIX, codeHash) : codeHash,
        code,
      );
      if ((await this.getAccount(addr)) === undefined) await this.putAccount(addr, new Account());
      await this.modifyAccountFields(addr, { codeHash });
    }

    const byAccount = new Map<
      string,
      { puts: { key: Uint8Array; value: Uint8Array }[]; dels: Uint8Array[] }
    >();
    for (const [addrHex, keyHex, value] of caches.storage?.flush() ?? []) {
      let e = byAccount.get(addrHex);
      if (e === undefined) {
        e = { puts: [], dels: [] };
        byAccount.set(addrHex, e);
      }
      const key = unprefixedHexToBytes(keyHex);
      const decoded = RLP.decode(value ?? new Uint8Array(0)) as Uint8Array;
      if (decoded.length === 0) e.dels.push(key);
      else e.puts.push({ key: keccak256(key), value: RLP.encode(decoded) });
    }
    for (const [addrHex, { puts, dels }] of byAccount) {
      const address = createAddressFromString(`0x${addrHex}`);
      const account = await this.getAccount(address);
      if (account === undefined) continue;
      const storageTrie = this._getStorageTrie(address, account);
      if (puts.length > 0) await batchPut(storageTrie, puts);
      for (const key of dels) await storageTrie.del(key);
      account.storageRoot = storageTrie.root();
      await this.putAccount(address, account);
    }

    const puts: { key: Uint8Array; value: Uint8Array }[] = [];
    const dels: Uint8Array[] = [];
    for (const [addrHex, elem] of caches.account?.flush() ?? []) {
      const addressBytes = unprefixedHexToBytes(addrHex);
      if (elem.accountRLP === undefined) dels.push(addressBytes);
      else puts.push({ key: keccak256(addressBytes), value: elem.accountRLP });
    }
    if (puts.length > 0) await batchPut(this._trie, puts);
    for (const a of dels) await this._trie.del(a);
  }
}
