import { parseTransaction, recoverTransactionAddress } from "viem";
import { keccak256 } from "viem/utils";
import { describe, expect, it } from "vitest";
import { loadAccounts } from "./accounts.ts";
import { quantile, signTransfers } from "./load.ts";

describe("signTransfers", () => {
  it("signs round-robin with local nonces, recoverable to the right sender", async () => {
    const accounts = loadAccounts(3);
    const txs = signTransfers({ accounts, chainId: 4242 }, [5, 0, 9], 7);
    expect(txs).toHaveLength(7);
    const expected = [
      [0, 5],
      [1, 0],
      [2, 9],
      [0, 6],
      [1, 1],
      [2, 10],
      [0, 7],
    ];
    for (const [i, tx] of txs.entries()) {
      const [k, nonce] = expected[i] as [number, number];
      const parsed = parseTransaction(tx.raw);
      expect(parsed.nonce).toBe(nonce);
      expect(parsed.chainId).toBe(4242);
      expect(parsed.to).toBe(accounts[(k + 1) % 3]?.address);
      expect(parsed.gas).toBe(21_000n);
      const from = await recoverTransactionAddress({ serializedTransaction: tx.raw as `0x02${string}` });
      expect(from.toLowerCase()).toBe(accounts[k]?.address);
      expect(tx.hash).toBe(keccak256(tx.raw));
    }
  });

  it("load accounts are deterministic and distinct", () => {
    const a = loadAccounts(50);
    expect(loadAccounts(50)).toEqual(a);
    expect(new Set(a.map((x) => x.address)).size).toBe(50);
  });
});

describe("quantile", () => {
  it("uses the nearest rank", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(xs, 0.5)).toBe(50);
    expect(quantile(xs, 0.99)).toBe(99);
    expect(quantile(xs, 1)).toBe(100);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
  });
});
