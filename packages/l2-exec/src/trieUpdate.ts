import { keccak256 } from "@dseq/crypto";
import { RLP } from "@ethereumjs/rlp";
import {
  buildSubtrie,
  compareBytes,
  EMPTY_STRING_RLP,
  EMPTY_TRIE_ROOT,
  hexPrefix,
  nodeRef,
  type OnTrieNode,
  rlpBytes,
  rlpList,
  type TrieItem,
  toNibbles,
} from "./trieRoot.ts";

/** A decoded trie node as RLP.decode returns it. */
type Decoded = Uint8Array | Decoded[];
export type LoadNode = (hash: Uint8Array) => Promise<Uint8Array | undefined>;

function decodePath(hp: Uint8Array): { nib: Uint8Array; leaf: boolean } {
  const flag = (hp[0] as number) >> 4;
  const odd = (flag & 1) === 1;
  const len = (hp.length - 1) * 2 + (odd ? 1 : 0);
  const nib = new Uint8Array(len);
  let o = 0;
  if (odd) nib[o++] = (hp[0] as number) & 0x0f;
  for (let i = 1; i < hp.length; i++) {
    nib[o++] = (hp[i] as number) >> 4;
    nib[o++] = (hp[i] as number) & 0x0f;
  }
  return { nib, leaf: flag >= 2 };
}

/** RLP of an item of a decoded node, as it sits inside its parent. */
function encodeItem(item: Decoded): Uint8Array {
  return item instanceof Uint8Array ? rlpBytes(item) : RLP.encode(item as never);
}

/**
 * Applies many insertions/updates to a Merkle-Patricia trie in one pass: each touched node
 * is read and decoded once and each new node hashed once, instead of one root-to-leaf walk
 * and re-hash per key (what `MerklePatriciaTrie.put` does). Deletions are not supported:
 * callers fall back to the trie for those (they are rare: emptied accounts, zeroed slots).
 * Keys are the trie keys (already hashed for a secure trie). Returns the new root; every new
 * node stored by hash goes to `onNode`.
 */
export async function updateTrie(
  root: Uint8Array,
  entries: { key: Uint8Array; value: Uint8Array }[],
  load: LoadNode,
  onNode: OnTrieNode,
): Promise<Uint8Array> {
  if (entries.length === 0) return root;
  const sorted = [...entries].sort((a, b) => compareBytes(a.key, b.key));
  const items: TrieItem[] = [];
  for (const e of sorted) {
    const nib = toNibbles(e.key);
    const prev = items[items.length - 1];
    // last write wins for a repeated key
    if (prev !== undefined && compareBytes(prev.nib, nib) === 0) prev.value = e.value;
    else items.push({ nib, value: e.value });
  }

  const resolve = async (item: Decoded): Promise<Decoded | null> => {
    if (item instanceof Uint8Array) {
      if (item.length === 0) return null;
      const enc = await load(item);
      if (enc === undefined) throw new Error("updateTrie: missing trie node");
      return RLP.decode(enc) as Decoded;
    }
    return item;
  };

  // New encoded node for `node` (null = empty) at `depth` with items[lo..hi) applied.
  const update = async (node: Decoded | null, lo: number, hi: number, depth: number): Promise<Uint8Array> => {
    if (node === null) return buildSubtrie(items, lo, hi, depth, onNode);
    const n = node as Decoded[];
    if (n.length === 2) {
      const { nib: path, leaf } = decodePath(n[0] as Uint8Array);
      if (leaf) {
        // Merge the existing leaf into the new items and rebuild this small subtrie.
        const key = new Uint8Array(depth + path.length);
        key.set((items[lo] as TrieItem).nib.subarray(0, depth), 0);
        key.set(path, depth);
        const merged: TrieItem[] = [];
        let placed = false;
        for (let i = lo; i < hi; i++) {
          const it = items[i] as TrieItem;
          const c = compareBytes(key, it.nib);
          if (!placed && c < 0) {
            merged.push({ nib: key, value: n[1] as Uint8Array });
            placed = true;
          } else if (!placed && c === 0) placed = true; // overwritten
          merged.push(it);
        }
        if (!placed) merged.push({ nib: key, value: n[1] as Uint8Array });
        return buildSubtrie(merged, 0, merged.length, depth, onNode);
      }
      // Extension: how far do all new keys follow its path?
      let k = path.length;
      for (let i = lo; i < hi && k > 0; i++) {
        const nib = (items[i] as TrieItem).nib;
        let c = 0;
        while (c < k && depth + c < nib.length && nib[depth + c] === path[c]) c++;
        k = c;
      }
      if (k === path.length) {
        const child = await resolve(n[1] as Decoded);
        const enc = await update(child, lo, hi, depth + path.length);
        return rlpList([rlpBytes(hexPrefix(path, 0, path.length, false)), nodeRef(enc, onNode)]);
      }
      // Split at depth + k into a branch; the extension's remainder goes under path[k].
      const restLen = path.length - k - 1;
      const remainder: Decoded =
        restLen > 0 ? [hexPrefix(path, k + 1, path.length, false), n[1] as Decoded] : (n[1] as Decoded);
      const slots: Uint8Array[] = new Array(17).fill(EMPTY_STRING_RLP);
      const at = depth + k;
      const existingNibble = path[k] as number;
      let i = lo;
      if (i < hi && (items[i] as TrieItem).nib.length === at) {
        slots[16] = rlpBytes((items[i] as TrieItem).value);
        i++;
      }
      let remainderDone = false;
      while (i < hi) {
        const nibble = (items[i] as TrieItem).nib[at] as number;
        let j = i + 1;
        while (j < hi && (items[j] as TrieItem).nib[at] === nibble) j++;
        if (nibble === existingNibble) {
          const existing = restLen > 0 ? remainder : await resolve(remainder);
          slots[nibble] = nodeRef(await update(existing, i, j, at + 1), onNode);
          remainderDone = true;
        } else {
          slots[nibble] = nodeRef(buildSubtrie(items, i, j, at + 1, onNode), onNode);
        }
        i = j;
      }
      if (!remainderDone) {
        slots[existingNibble] =
          restLen > 0 ? nodeRef(RLP.encode(remainder as never), onNode) : encodeItem(remainder);
      }
      const branch = rlpList(slots);
      if (k === 0) return branch;
      return rlpList([rlpBytes(hexPrefix(path, 0, k, false)), nodeRef(branch, onNode)]);
    }
    // Branch.
    const slots: Uint8Array[] = new Array(17);
    for (let s = 0; s < 17; s++) slots[s] = encodeItem(n[s] as Decoded);
    let i = lo;
    if (i < hi && (items[i] as TrieItem).nib.length === depth) {
      slots[16] = rlpBytes((items[i] as TrieItem).value);
      i++;
    }
    while (i < hi) {
      const nibble = (items[i] as TrieItem).nib[depth] as number;
      let j = i + 1;
      while (j < hi && (items[j] as TrieItem).nib[depth] === nibble) j++;
      const child = await resolve(n[nibble] as Decoded);
      slots[nibble] = nodeRef(await update(child, i, j, depth + 1), onNode);
      i = j;
    }
    return rlpList(slots);
  };

  const start = compareBytes(root, EMPTY_TRIE_ROOT) === 0 ? null : await resolve(root);
  const encoded = await update(start, 0, items.length, 0);
  const newRoot = keccak256(encoded);
  onNode(newRoot, encoded);
  return newRoot;
}
