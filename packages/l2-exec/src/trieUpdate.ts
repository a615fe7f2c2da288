import { keccak256 } from "@dseq/crypto";
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

export type LoadNode = (hash: Uint8Array) => Promise<Uint8Array | undefined>;

/**
 * A trie node split into its list items without copying: `raw[i]` is item i's full RLP
 * encoding, reused as is when the item does not change; `payload(raw[i])` reads it.
 */
type RawNode = { raw: Uint8Array[] };

/** The payload of an encoded item if it is a byte string, undefined if it is a list. */
function payload(item: Uint8Array): Uint8Array | undefined {
  const b = item[0] as number;
  if (b < 0x80) return item;
  if (b <= 0xb7) return item.subarray(1);
  if (b <= 0xbf) return item.subarray(1 + (b - 0xb7));
  return undefined;
}

function readLen(b: Uint8Array, p: number, n: number): number {
  let l = 0;
  for (let i = 0; i < n; i++) l = l * 256 + (b[p + i] as number);
  return l;
}

function decodeNode(enc: Uint8Array): RawNode {
  const b0 = enc[0] as number;
  let p: number;
  let end: number;
  if (b0 >= 0xc0 && b0 <= 0xf7) {
    p = 1;
    end = 1 + (b0 - 0xc0);
  } else if (b0 > 0xf7) {
    const ll = b0 - 0xf7;
    p = 1 + ll;
    end = p + readLen(enc, 1, ll);
  } else {
    throw new Error("updateTrie: trie node is not a list");
  }
  const raw: Uint8Array[] = [];
  while (p < end) {
    const b = enc[p] as number;
    let stop: number;
    if (b < 0x80) stop = p + 1;
    else if (b <= 0xb7) stop = p + 1 + (b - 0x80);
    else if (b <= 0xbf) stop = p + 1 + (b - 0xb7) + readLen(enc, p + 1, b - 0xb7);
    else if (b <= 0xf7) stop = p + 1 + (b - 0xc0);
    else stop = p + 1 + (b - 0xf7) + readLen(enc, p + 1, b - 0xf7);
    raw.push(enc.subarray(p, stop));
    p = stop;
  }
  if (raw.length !== 2 && raw.length !== 17) throw new Error("updateTrie: malformed trie node");
  return { raw };
}

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

  // The node an item of a parent refers to: a hash to load, an inline node, or nothing.
  const resolve = async (raw: Uint8Array): Promise<RawNode | null> => {
    const val = payload(raw);
    if (val === undefined) return decodeNode(raw);
    if (val.length === 0) return null;
    const enc = await load(val);
    if (enc === undefined) throw new Error("updateTrie: missing trie node");
    return decodeNode(enc);
  };

  // New encoded node for `node` (null = empty) at `depth` with items[lo..hi) applied.
  const update = async (node: RawNode | null, lo: number, hi: number, depth: number): Promise<Uint8Array> => {
    if (node === null) return buildSubtrie(items, lo, hi, depth, onNode);
    if (node.raw.length === 2) {
      const { nib: path, leaf } = decodePath(payload(node.raw[0] as Uint8Array) as Uint8Array);
      if (leaf) {
        // Merge the existing leaf into the new items and rebuild this small subtrie.
        const key = new Uint8Array(depth + path.length);
        key.set((items[lo] as TrieItem).nib.subarray(0, depth), 0);
        key.set(path, depth);
        const value = payload(node.raw[1] as Uint8Array) as Uint8Array;
        const merged: TrieItem[] = [];
        let placed = false;
        for (let i = lo; i < hi; i++) {
          const it = items[i] as TrieItem;
          if (!placed) {
            const c = compareBytes(key, it.nib);
            if (c < 0) {
              merged.push({ nib: key, value });
              placed = true;
            } else if (c === 0) placed = true; // overwritten
          }
          merged.push(it);
        }
        if (!placed) merged.push({ nib: key, value });
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
      const childRaw = node.raw[1] as Uint8Array;
      if (k === path.length) {
        const enc = await update(await resolve(childRaw), lo, hi, depth + path.length);
        return rlpList([node.raw[0] as Uint8Array, nodeRef(enc, onNode)]);
      }
      // Split at depth + k into a branch; the extension's remainder goes under path[k].
      const restLen = path.length - k - 1;
      const remainder =
        restLen > 0 ? rlpList([rlpBytes(hexPrefix(path, k + 1, path.length, false)), childRaw]) : undefined;
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
          const existing = remainder !== undefined ? decodeNode(remainder) : await resolve(childRaw);
          slots[nibble] = nodeRef(await update(existing, i, j, at + 1), onNode);
          remainderDone = true;
        } else {
          slots[nibble] = nodeRef(buildSubtrie(items, i, j, at + 1, onNode), onNode);
        }
        i = j;
      }
      if (!remainderDone)
        slots[existingNibble] = remainder !== undefined ? nodeRef(remainder, onNode) : childRaw;
      const branch = rlpList(slots);
      if (k === 0) return branch;
      return rlpList([rlpBytes(hexPrefix(path, 0, k, false)), nodeRef(branch, onNode)]);
    }
    // Branch: unchanged children keep their encoding byte for byte.
    const slots = node.raw.slice();
    let i = lo;
    if (i < hi && (items[i] as TrieItem).nib.length === depth) {
      slots[16] = rlpBytes((items[i] as TrieItem).value);
      i++;
    }
    while (i < hi) {
      const nibble = (items[i] as TrieItem).nib[depth] as number;
      let j = i + 1;
      while (j < hi && (items[j] as TrieItem).nib[depth] === nibble) j++;
      const child = await resolve(node.raw[nibble] as Uint8Array);
      slots[nibble] = nodeRef(await update(child, i, j, depth + 1), onNode);
      i = j;
    }
    return rlpList(slots);
  };

  let start: RawNode | null = null;
  if (compareBytes(root, EMPTY_TRIE_ROOT) !== 0) {
    const enc = await load(root);
    if (enc === undefined) throw new Error("updateTrie: missing root node");
    start = decodeNode(enc);
  }
  const encoded = await update(start, 0, items.length, 0);
  const newRoot = keccak256(encoded);
  onNode(newRoot, encoded);
  return newRoot;
}
