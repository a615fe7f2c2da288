import { bytesToHex, hexToBytes } from "@dseq/common";
import { Common, Mainnet } from "@ethereumjs/common";
import { createFeeMarket1559Tx, createLegacyTx, createTxFromRLP } from "@ethereumjs/tx";
import { describe, expect, it } from "vitest";
import { nobleSecp256k1 } from "./backend.ts";
import { createEthereumCrypto, privateKeyToAddress, publicKeyToAddress, recoveryFromV } from "./ethereum.ts";

// The address of private key 0x01...01 is well known from many Ethereum test suites.
const PRIV = hexToBytes(`0x${"01".repeat(32)}`);
const ADDR = "0x1a642f0e3c3af545e7acbd38b07251b3990914f1" as const;

describe("Ethereum helpers", () => {
  it("addresses from keys", () => {
    expect(bytesToHex(privateKeyToAddress(PRIV))).toBe(ADDR);
    const pub = nobleSecp256k1.getPublicKey(PRIV);
    expect(bytesToHex(publicKeyToAddress(pub))).toBe(ADDR);
    expect(bytesToHex(publicKeyToAddress(pub.subarray(1)))).toBe(ADDR);
    expect(() => publicKeyToAddress(new Uint8Array(33))).toThrow(/64 or 65/);
  });

  it("recovery ids from v", () => {
    expect(recoveryFromV(0n)).toBe(0);
    expect(recoveryFromV(28n)).toBe(1);
    expect(recoveryFromV(1n * 2n + 36n, 1n)).toBe(1);
    expect(() => recoveryFromV(29n)).toThrow(/Invalid signature v/);
  });
});

describe("createEthereumCrypto with @ethereumjs/tx", () => {
  const customCrypto = createEthereumCrypto();

  it("is one object per backend, so a tx decoded by the pool keeps its cached sender in l2-exec", () => {
    expect(createEthereumCrypto()).toBe(customCrypto);
    expect(createEthereumCrypto().ecrecover).toBe(customCrypto.ecrecover);
  });
  const fast = new Common({ chain: Mainnet, hardfork: "prague", customCrypto });
  const stock = new Common({ chain: Mainnet, hardfork: "prague" });

  it("signs exactly as the stock path and recovers the same sender", () => {
    const data = {
      nonce: 7n,
      maxFeePerGas: 10n ** 9n,
      maxPriorityFeePerGas: 1n,
      gasLimit: 21000n,
      to: "0x00000000000000000000000000000000000000aa" as const,
      value: 5n,
    };
    const a = createFeeMarket1559Tx(data, { common: fast }).sign(PRIV);
    const b = createFeeMarket1559Tx(data, { common: stock }).sign(PRIV);
    expect(bytesToHex(a.serialize())).toBe(bytesToHex(b.serialize()));
    expect(bytesToHex(a.hash())).toBe(bytesToHex(b.hash()));
    expect(a.getSenderAddress().toString()).toBe(ADDR);
    // Decoding with the fast path recovers the same sender.
    const decoded = createTxFromRLP(b.serialize(), { common: fast });
    expect(decoded.getSenderAddress().toString()).toBe(ADDR);
  });

  it("handles EIP-155 legacy signatures and rejects a tampered one", () => {
    const tx = createLegacyTx(
      { nonce: 1n, gasPrice: 10n, gasLimit: 21000n, to: ADDR, value: 1n },
      { common: fast },
    ).sign(PRIV);
    expect(tx.v).toBeGreaterThanOrEqual(37n);
    const again = createTxFromRLP(tx.serialize(), { common: fast });
    expect(again.getSenderAddress().toString()).toBe(ADDR);
    const raw = tx.serialize();
    raw[raw.length - 40] = (raw[raw.length - 40] as number) ^ 0xff; // inside s
    let sender: string | undefined;
    try {
      sender = createTxFromRLP(raw, { common: fast }).getSenderAddress().toString();
    } catch {
      sender = undefined;
    }
    expect(sender).not.toBe(ADDR);
  });

  it("refuses formats it does not implement", () => {
    expect(() => customCrypto.ecsign(new Uint8Array(32), PRIV, { format: "der" })).toThrow(/recovered/);
  });
});
