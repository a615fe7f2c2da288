import { keccak256 } from "@dseq/crypto";
import { MerklePatriciaTrie } from "@ethereumjs/mpt";
import { bytesToHex, MapDB } from "@ethereumjs/util";
import { describe, expect, it } from "vitest";
import { EMPTY_TRIE_ROOT } from "./trieRoot.ts";
import { updateTrie } from "./trieUpdate.ts";

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s >>> 24;
  };
}
const bytes = (r: () => number, n: number) => Uint8Array.from({ length: n }, () => r());

describe("batch trie update", () => {
  it("matches MerklePatriciaTrie.put over many rounds of random inserts and overwrites", async () => {
    const r = rng(42);
    for (const keyLen of [32, 3]) {
      const db = new MapDB<string, Uint8Array>();
      const mpt = new MerklePatriciaTrie({ db, valueEncoding: "view" as never });
      let root = EMPTY_TRIE_ROOT;
      const keys: Uint8Array[] = [];
      for (let round = 0; round < 12; round++) {
        const entries: { key: Uint8Array; value: Uint8Array }[] = [];
        const n = 1 + (r() % 60);
        for (let i = 0; i < n; i++) {
          // half new keys, half overwrites of existing ones
          const reuse = keys.length > 0 && r() % 2 === 0;
          const key = reuse
            ? (keys[r() % keys.length] as Uint8Array)
            : keyLen === 32
              ? keccak256(bytes(r, 8))
              : bytes(r, 1 + (r() % keyLen));
          if (!reuse) keys.push(key);
          entries.push({ key, value: bytes(r, 1 + (r() % 50)) });
        }
        for (const e of entries) await mpt.put(e.key, e.value);
        root = await updateTrie(
          root,
          entries,
          async (h) => db.get(bytesToHex(h).slice(2)),
          (h, enc) => {
            void db.put(bytesToHex(h).slice(2), enc);
          },
        );
        expect(bytesToHex(root)).toBe(bytesToHex(mpt.root()));
      }
    }
  });
});
