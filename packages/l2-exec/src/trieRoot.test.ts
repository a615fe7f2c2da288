import { keccak256 } from "@dseq/crypto";
import { MerklePatriciaTrie } from "@ethereumjs/mpt";
import { RLP } from "@ethereumjs/rlp";
import { bytesToHex } from "@ethereumjs/util";
import { describe, expect, it } from "vitest";
import { EMPTY_TRIE_ROOT, orderedTrieRoot, trieRoot } from "./trieRoot.ts";

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s;
  };
}

function randomBytes(r: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = r() >>> 24;
  return b;
}

async function mptRoot(entries: { key: Uint8Array; value: Uint8Array }[]): Promise<string> {
  const t = new MerklePatriciaTrie();
  for (const e of entries) await t.put(e.key, e.value);
  return bytesToHex(t.root());
}

describe("stack trie root", () => {
  it("the empty trie", () => {
    expect(bytesToHex(EMPTY_TRIE_ROOT)).toBe(
      "0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421",
    );
    expect(bytesToHex(orderedTrieRoot([]))).toBe(bytesToHex(EMPTY_TRIE_ROOT));
  });

  it("matches @ethereumjs/mpt on random secure-trie sets, values small and large (embedded nodes)", async () => {
    const r = rng(7);
    for (const size of [1, 2, 3, 17, 100, 600]) {
      const entries = Array.from({ length: size }, () => ({
        key: keccak256(randomBytes(r, 8)),
        value: randomBytes(r, 1 + (r() % 70)),
      }));
      expect(bytesToHex(trieRoot(entries))).toBe(await mptRoot(entries));
    }
  });

  it("matches @ethereumjs/mpt on short, variable-length keys (prefix-free and not)", async () => {
    const r = rng(11);
    for (let round = 0; round < 20; round++) {
      const map = new Map<string, { key: Uint8Array; value: Uint8Array }>();
      const n = 1 + (r() % 40);
      for (let i = 0; i < n; i++) {
        const key = randomBytes(r, 1 + (r() % 3));
        map.set(bytesToHex(key), { key, value: randomBytes(r, 1 + (r() % 40)) });
      }
      const entries = [...map.values()];
      expect(bytesToHex(trieRoot(entries))).toBe(await mptRoot(entries));
    }
  });

  it("ordered list roots (tx/receipt tries) match the MPT with rlp(index) keys, across the 0x7f/0x80 boundary", async () => {
    const r = rng(3);
    const values = Array.from({ length: 300 }, () => randomBytes(r, 20 + (r() % 120)));
    const entries = values.map((value, i) => ({ key: RLP.encode(i), value }));
    expect(bytesToHex(orderedTrieRoot(values))).toBe(await mptRoot(entries));
  });

  it("reports every hashed node so a trie can be persisted and read back", async () => {
    const r = rng(5);
    const entries = Array.from({ length: 200 }, () => ({
      key: keccak256(randomBytes(r, 8)),
      value: randomBytes(r, 40),
    }));
    const nodes = new Map<string, Uint8Array>();
    const root = trieRoot(entries, (h, enc) => nodes.set(bytesToHex(h).slice(2), enc));
    const { MapDB } = await import("@ethereumjs/util");
    const db = new MapDB<string, Uint8Array>();
    for (const [k, v] of nodes) await db.put(k, v);
    const t = new MerklePatriciaTrie({ db, root, valueEncoding: "view" as never });
    for (const e of entries.slice(0, 20))
      expect(bytesToHex((await t.get(e.key)) as Uint8Array)).toBe(bytesToHex(e.value));
  });
});
