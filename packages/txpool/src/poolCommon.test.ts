import { createEthereumCrypto, keccak256 } from "@dseq/crypto";
import { createCustomCommon, Mainnet } from "@ethereumjs/common";
import { createFeeMarket1559Tx, createTxFromRLP, getCalldataFloorGas } from "@ethereumjs/tx";
import { describe, expect, it } from "vitest";
import { createPoolCommon } from "./poolCommon.ts";

describe("createPoolCommon", () => {
  it("decodes to the same parameters as a plain Prague Common", () => {
    const plain = createCustomCommon({ chainId: 901 }, Mainnet, {
      hardfork: "prague",
      customCrypto: createEthereumCrypto(),
    });
    const pool = createPoolCommon(901n);
    const key = keccak256(new Uint8Array([1]));
    const raw = createFeeMarket1559Tx(
      {
        nonce: 3n,
        maxFeePerGas: 10n,
        maxPriorityFeePerGas: 1n,
        gasLimit: 90_000n,
        data: new Uint8Array([0, 1, 0, 2]),
        to: undefined,
      },
      { common: plain },
    )
      .sign(key)
      .serialize();
    const a = createTxFromRLP(raw, { common: plain });
    const b = createTxFromRLP(raw, { common: pool });
    expect(b.getIntrinsicGas()).toBe(a.getIntrinsicGas());
    expect(getCalldataFloorGas(b)).toBe(getCalldataFloorGas(a));
    expect(b.getSenderAddress().toString()).toBe(a.getSenderAddress().toString());
    expect(b.common.param("txGas")).toBe(21_000n);
    expect(b.common.chainId()).toBe(901n);
  });
});
