import { createEthereumCrypto } from "@dseq/crypto";
import { Common, Mainnet } from "@ethereumjs/common";
import { MerklePatriciaTrie } from "@ethereumjs/mpt";
import { Caches, MerkleStateManager } from "@ethereumjs/statemanager";
import { Account, bytesToHex, createAddressFromString, setLengthLeft } from "@ethereumjs/util";
import { describe, expect, it } from "vitest";

/**
 * patches/@ethereumjs__statemanager@10.1.3.patch: upstream `putStorage` does
 * `cache.put(...) ?? writeToTrie(...)`; `cache.put` returns undefined, so every storage write
 * also went to the trie even with caches on (ERC-20 throughput halved). The patch writes to
 * the cache only; the trie is written once, on flush.
 */
describe("@ethereumjs/statemanager putStorage patch", () => {
  const common = new Common({ chain: Mainnet, hardfork: "prague", customCrypto: createEthereumCrypto() });
  const address = createAddressFromString("0x00000000000000000000000000000000000e2c20");

  async function run(sm: MerkleStateManager): Promise<string> {
    await sm.putAccount(address, new Account(0n, 1n));
    await sm.checkpoint();
    for (let i = 0; i < 200; i++) {
      await sm.putStorage(address, setLengthLeft(Uint8Array.of(i % 50), 32), Uint8Array.of(i + 1));
    }
    await sm.commit();
    return bytesToHex(await sm.getStateRoot());
  }

  it("with caches, storage writes stay in the cache until flush (the trie is not touched per write)", async () => {
    const trie = new MerklePatriciaTrie({ useKeyHashing: true, common });
    const sm = new MerkleStateManager({ common, trie, caches: new Caches() });
    await sm.putAccount(address, new Account(0n, 1n));
    await sm.flush();
    let trieWrites = 0;
    const storageTrie = (
      sm as unknown as { _getStorageTrie(a: typeof address, acc?: Account): MerklePatriciaTrie }
    )._getStorageTrie(address, await sm.getAccount(address));
    const put = storageTrie.put.bind(storageTrie);
    storageTrie.put = async (k, v) => {
      trieWrites++;
      return put(k, v);
    };
    await sm.checkpoint();
    for (let i = 0; i < 10; i++)
      await sm.putStorage(address, setLengthLeft(Uint8Array.of(i), 32), Uint8Array.of(7));
    expect(trieWrites).toBe(0);
    await sm.commit(); // last checkpoint: flush writes each slot once
    expect(trieWrites).toBe(10);
    expect(bytesToHex(await sm.getStorage(address, setLengthLeft(Uint8Array.of(3), 32)))).toBe("0x07");
  });

  it("gives the same state root as a state manager without caches (which writes the trie directly)", async () => {
    const cached = await run(
      new MerkleStateManager({
        common,
        trie: new MerklePatriciaTrie({ useKeyHashing: true, common }),
        caches: new Caches(),
      }),
    );
    const direct = await run(
      new MerkleStateManager({ common, trie: new MerklePatriciaTrie({ useKeyHashing: true, common }) }),
    );
    expect(cached).toBe(direct);
  });
});
