import type { Hex } from "@dseq/common";
import { mnemonicToAccount, privateKeyToAddress } from "viem/accounts";
import { keccak256, toHex } from "viem/utils";

export type DevAccount = { address: Hex; privateKey: Hex };

/**
 * The mnemonic Hardhat, Anvil and Foundry use for their funded dev accounts: wallets and
 * tutorials already know these keys, which is the point of a devnet's test accounts (and why
 * they must never hold anything of value).
 */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

const fundedCache: DevAccount[] = [];

/** The first `count` accounts of DEV_MNEMONIC (m/44'/60'/0'/0/i), public knowledge. */
export function wellKnownAccounts(count: number): DevAccount[] {
  while (fundedCache.length < count) {
    const acc = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: fundedCache.length });
    const priv = acc.getHdKey().privateKey;
    if (!priv) throw new Error("HD key without a private key");
    fundedCache.push({ address: acc.address.toLowerCase() as Hex, privateKey: toHex(priv) });
  }
  return fundedCache.slice(0, count);
}

/**
 * Accounts for the load generator: `keccak256("dseq-devnet-load:" + i)`. Deterministic so that
 * `devnet load` in another terminal finds the same funded senders without reading any secret.
 */
export function loadAccounts(count: number): DevAccount[] {
  const out: DevAccount[] = [];
  for (let i = 0; i < count; i++) {
    const privateKey = keccak256(toHex(`dseq-devnet-load:${i}`));
    out.push({ address: privateKeyToAddress(privateKey).toLowerCase() as Hex, privateKey });
  }
  return out;
}
