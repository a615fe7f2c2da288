import { createEthereumCrypto } from "@dseq/crypto";
import { Common, Mainnet } from "@ethereumjs/common";
import { MerklePatriciaTrie } from "@ethereumjs/mpt";
import { Caches, MerkleStateManager } from "@ethereumjs/statemanager";
import { Account, Address, bytesToHex, setLengthLeft } from "@ethereumjs/util";
import { describe, expect, it } from "vitest";
import { FastStateManager } from "./fastStateManager.ts";

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s >>> 16;
  };
}

describe("FastStateManager", () => {
  const common = new Common({ chain: Mainnet, hardfork: "prague", customCrypto: createEthereumCrypto() });

  it("gives the stock manager's state roots over random blocks of puts, deletions, zeroed slots and code", async () => {
    const r = rng(99);
    const fast = new FastStateManager({
      common,
      trie: new MerklePatriciaTrie({ useKeyHashing: true, common }),
      caches: new Caches(),
    });
    const stock = new MerkleStateManager({
      common,
      trie: new MerklePatriciaTrie({ useKeyHashing: true, common }),
      caches: new Caches(),
    });
    const addr = (i: number) => new Address(setLengthLeft(Uint8Array.of(i >> 8, i & 0xff), 20));
    for (let block = 0; block < 15; block++) {
      const ops: ((sm: MerkleStateManager) => Promise<void>)[] = [];
      for (let k = 0; k < 80; k++) {
        const a = addr(r() % 200);
        const op = r() % 10;
        const n = BigInt(r());
        const slot = setLengthLeft(Uint8Array.of(r() % 20), 32);
        const value = r() % 4 === 0 ? new Uint8Array(0) : Uint8Array.of(1 + (r() % 250));
        const code = Uint8Array.of(0x60, r() % 256, 0x00);
        ops.push(async (sm) => {
          const acc = await sm.getAccount(a);
          if (op < 5) await sm.putAccount(a, new Account(n % 5n, n));
          else if (op < 6) {
            if (acc !== undefined) await sm.deleteAccount(a);
          } else if (op < 9) {
            if (acc === undefined) await sm.putAccount(a, new Account(1n, 1n));
            await sm.putStorage(a, slot, value);
          } else {
            if (acc === undefined) await sm.putAccount(a, new Account(1n, 1n));
            await sm.putCode(a, code);
          }
        });
      }
      for (const sm of [fast, stock] as MerkleStateManager[]) {
        await sm.checkpoint();
        for (const op of ops) {
          // nested checkpoints with some reverts, as transactions do
          await sm.checkpoint();
          await op(sm);
          if ((await sm.getAccount(addr(0))) !== undefined && ops.indexOf(op) % 7 === 3) await sm.revert();
          else await sm.commit();
        }
        await sm.commit();
      }
      expect(bytesToHex(await fast.getStateRoot())).toBe(bytesToHex(await stock.getStateRoot()));
    }
    // and the fast manager reads its own writes back after the batch update
    for (let i = 0; i < 200; i++) {
      const a = addr(i);
      expect((await fast.getAccount(a))?.balance).toBe((await stock.getAccount(a))?.balance);
      expect(
        bytesToHex(
          await fast.getStorage(a, setLengthLeft(Uint8Array.of(3), 32)).catch(() => new Uint8Array(0)),
        ),
      ).toBe(
        bytesToHex(
          await stock.getStorage(a, setLengthLeft(Uint8Array.of(3), 32)).catch(() => new Uint8Array(0)),
        ),
      );
    }
  });
});
