import { createFeeMarket1559Tx } from "@ethereumjs/tx";
import { describe, expect, it } from "vitest";
import { testAccounts, testChainConfig } from "../test/fixtures.ts";
import { chainConfigToGethGenesis, createChainCommon } from "./chainConfig.ts";

describe("createChainCommon", () => {
  const common = createChainCommon(
    chainConfigToGethGenesis(testChainConfig({ senders: testAccounts(1, "c") })),
  );

  it("has the built-in parameter tables merged, for the chain and every copy a transaction makes", () => {
    const tx = createFeeMarket1559Tx(
      { chainId: common.chainId(), gasLimit: 21_000n, to: "0x00000000000000000000000000000000000000aa" },
      { common },
    );
    expect(tx.common).not.toBe(common);
    expect(tx.common.param("txGas")).toBe(21_000n); // paramsTx
    expect(common.param("maxCodeSize")).toBe(24_576n); // paramsEVM
    expect(tx.getIntrinsicGas()).toBe(21_000n);
  });

  it("still merges a table it does not know", () => {
    const copy = common.copy();
    copy.updateParams({ 1: { dseqTestParam: 7 } });
    expect(copy.param("dseqTestParam")).toBe(7n);
  });
});
