import { keccak256 } from "@dseq/crypto";

/**
 * Merkle-Patricia trie roots built in one pass over sorted keys (geth's StackTrie idea):
 * no node is written twice and no path is re-hashed. Used for the transaction, receipt and
 * withdrawal tries of every block and for the genesis state, where `onNode` receives every
 * hashed node so it can be persisted in one batch.
 */

export type TrieEntry = { key: Uint8Array; value: Uint8Array };
export type OnTrieNode = (hash: Uint8Array, encoded: Uint8Array) => void;

export const EMPTY_STRING_RLP = Uint8Array.of(0x80);
/** keccak256(rlp("")): the root of an empty trie. */
export const EMPTY_TRIE_ROOT = keccak256(EMPTY_STRING_RLP);

function lengthOfLength(len: number): number {
  let n = 0;
  for (let l = len; l > 0; l = Math.floor(l / 256)) n++;
  return n;
}

function writeHeader(out: Uint8Array, len: number, offset: number): number {
  if (len < 56) {
    out[0] = offset + len;
    return 1;
  }
  const ll = lengthOfLength(len);
  out[0] = offset + 55 + ll;
  for (let i = ll, l = len; i >= 1; i--, l = Math.floor(l / 256)) out[i] = l & 0xff;
  return ll + 1;
}

const headerSize = (len: number) => (len < 56 ? 1 : 1 + lengthOfLength(len));

/** RLP of a byte string. */
export function rlpBytes(b: Uint8Array): Uint8Array {
  if (b.length === 1 && (b[0] as number) < 0x80) return b;
  const out = new Uint8Array(headerSize(b.length) + b.length);
  const h = writeHeader(out, b.length, 0x80);
  out.set(b, h);
  return out;
}

/** RLP of a list whose items are already RLP-encoded. */
export function rlpList(items: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const i of items) total += i.length;
  const out = new Uint8Array(headerSize(total) + total);
  let o = writeHeader(out, total, 0xc0);
  for (const i of items) {
    out.set(i, o);
    o += i.length;
  }
  return out;
}

export function toNibbles(key: Uint8Array): Uint8Array {
  const n = new Uint8Array(key.length * 2);
  for (let i = 0; i < key.length; i++) {
    const b = key[i] as number;
    n[2 * i] = b >> 4;
    n[2 * i + 1] = b & 0x0f;
  }
  return n;
}

/** Hex-prefix encoding of a nibble path (Yellow Paper appendix C). */
export function hexPrefix(nibbles: Uint8Array, from: number, to: number, leaf: boolean): Uint8Array {
  const len = to - from;
  const odd = len % 2 === 1;
  const out = new Uint8Array(Math.floor(len / 2) + 1);
  let flag = leaf ? 2 : 0;
  let i = from;
  if (odd) {
    flag += 1;
    out[0] = (flag << 4) | (nibbles[i++] as number);
  } else {
    out[0] = flag << 4;
  }
  for (let o = 1; i < to; i += 2, o++) out[o] = ((nibbles[i] as number) << 4) | (nibbles[i + 1] as number);
  return out;
}

export type TrieItem = { nib: Uint8Array; value: Uint8Array };

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** A node's reference inside its parent: inline when its encoding is shorter than 32 bytes. */
export function nodeRef(encoded: Uint8Array, onNode?: OnTrieNode): Uint8Array {
  if (encoded.length < 32) return encoded;
  const h = keccak256(encoded);
  onNode?.(h, encoded);
  return rlpBytes(h);
}

/**
 * The encoded node of the subtrie holding `items[lo..hi)` (sorted, distinct nibble keys that
 * share their first `depth` nibbles), built bottom-up in one pass.
 */
export function buildSubtrie(
  items: TrieItem[],
  lo: number,
  hi: number,
  depth: number,
  onNode?: OnTrieNode,
): Uint8Array {
  const node = (lo: number, hi: number, depth: number): Uint8Array => {
    const first = items[lo] as TrieItem;
    if (hi - lo === 1) {
      return rlpList([rlpBytes(hexPrefix(first.nib, depth, first.nib.length, true)), rlpBytes(first.value)]);
    }
    const last = items[hi - 1] as TrieItem;
    let cp = depth;
    const max = Math.min(first.nib.length, last.nib.length);
    while (cp < max && first.nib[cp] === last.nib[cp]) cp++;
    if (cp === max && first.nib.length === last.nib.length) throw new Error("trieRoot: duplicate key");
    if (cp > depth) {
      return rlpList([rlpBytes(hexPrefix(first.nib, depth, cp, false)), nodeRef(branch(lo, hi, cp), onNode)]);
    }
    return branch(lo, hi, depth);
  };

  const branch = (lo: number, hi: number, depth: number): Uint8Array => {
    const slots: Uint8Array[] = new Array(17).fill(EMPTY_STRING_RLP);
    let i = lo;
    const head = items[i] as TrieItem;
    if (head.nib.length === depth) {
      slots[16] = rlpBytes(head.value);
      i++;
    }
    while (i < hi) {
      const nibble = (items[i] as TrieItem).nib[depth] as number;
      let j = i + 1;
      while (j < hi && (items[j] as TrieItem).nib[depth] === nibble) j++;
      slots[nibble] = nodeRef(node(i, j, depth + 1), onNode);
      i = j;
    }
    return rlpList(slots);
  };

  return node(lo, hi, depth);
}

/**
 * Root of the trie holding `entries` (keys are used as given: hash them first for a secure
 * trie). Keys must be distinct. `onNode` sees every node stored by hash, root included.
 */
export function trieRoot(entries: TrieEntry[], onNode?: OnTrieNode, sorted = false): Uint8Array {
  if (entries.length === 0) return EMPTY_TRIE_ROOT;
  const list = sorted ? entries : [...entries].sort((a, b) => compareBytes(a.key, b.key));
  const items: TrieItem[] = list.map((e) => ({ nib: toNibbles(e.key), value: e.value }));
  const rootEncoded = buildSubtrie(items, 0, items.length, 0, onNode);
  const root = keccak256(rootEncoded);
  onNode?.(root, rootEncoded);
  return root;
}

/** Root of an ordered list trie (keys rlp(index)): transactions, receipts, withdrawals. */
export function orderedTrieRoot(values: Uint8Array[]): Uint8Array {
  const entries: TrieEntry[] = values.map((value, i) => ({ key: rlpIndex(i), value }));
  return trieRoot(entries);
}

function rlpIndex(i: number): Uint8Array {
  if (i === 0) return EMPTY_STRING_RLP;
  const bytes: number[] = [];
  for (let n = i; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return rlpBytes(Uint8Array.from(bytes));
}
