import { describe, expect, it } from "vitest";
import { effectiveGasPrice, formatTransaction, legacyChainId } from "./format.ts";
import type { TransactionData } from "./types.ts";

const base: TransactionData = {
  type: 0,
  hash: `0x${"11".repeat(32)}`,
  from: `0x${"22".repeat(20)}`,
  nonce: 1n,
  to: null,
  value: 0n,
  gas: 21_000n,
  input: "0x",
  gasPrice: 5n,
  v: 27n,
  r: 1n,
  s: 2n,
};

describe("transaction formatting (geth newRPCTransaction)", () => {
  it("legacy: chainId only when EIP-155 protected, no yParity", () => {
    expect(legacyChainId(27n)).toBeUndefined();
    expect(legacyChainId(901n * 2n + 35n)).toBe(901n);
    const unprotected = formatTransaction(base, undefined);
    expect(unprotected.chainId).toBeUndefined();
    expect(unprotected.yParity).toBeUndefined();
    expect(unprotected.blockHash).toBeNull();
    const protectedTx = formatTransaction({ ...base, v: 901n * 2n + 36n }, undefined);
    expect(protectedTx.chainId).toBe("0x385");
  });

  it("dynamic fee: gasPrice is the effective price in a block, the fee cap when pending", () => {
    const tx: TransactionData = {
      ...base,
      type: 2,
      gasPrice: undefined,
      maxFeePerGas: 100n,
      maxPriorityFeePerGas: 3n,
      chainId: 901n,
      accessList: [],
      v: 1n,
    };
    expect(effectiveGasPrice(tx, 50n)).toBe(53n);
    expect(effectiveGasPrice(tx, 99n)).toBe(100n);
    const mined = formatTransaction(tx, {
      blockHash: base.hash,
      blockNumber: 7n,
      blockTimestamp: 9n,
      index: 2,
      baseFee: 50n,
    });
    expect(mined).toMatchObject({
      gasPrice: "0x35",
      transactionIndex: "0x2",
      yParity: "0x1",
      accessList: [],
    });
    expect(formatTransaction(tx, undefined).gasPrice).toBe("0x64");
  });
});
