// Shared test plumbing: a FROST group made with @noble/curves (a trusted dealer: the signing code
// under test is the L1 check, not the DKG), viem clients on the dev L1, and revert matching.
import { secp256k1_FROST } from "@noble/curves/secp256k1.js";
import {
  type Abi,
  type Address,
  BaseError,
  bytesToHex,
  type Chain,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  type Hex,
  hexToBytes,
  http,
  type PublicClient,
  type TestClient,
  type Transport,
  type WalletClient,
} from "viem";
import { type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import type { DevL1 } from "../src/devL1.ts";

export type FrostGroup = {
  /** 33-byte compressed group key. */
  groupKey: Hex;
  /** Threshold-signs `msg` with the first `min` shares; returns the 65-byte RFC 9591 signature. */
  sign(msg: Hex): Hex;
};

export function createFrostGroup(min = 2, max = 3): FrostGroup {
  const ids = Array.from({ length: max }, (_, i) => secp256k1_FROST.Identifier.fromNumber(i + 1));
  const deal = secp256k1_FROST.trustedDealer({ min, max }, ids);
  const groupKey = bytesToHex(deal.public.commitments[0]!);
  const sign = (msg: Hex): Hex => {
    const m = hexToBytes(msg);
    const signers = ids.slice(0, min);
    const rounds = signers.map((id) => secp256k1_FROST.commit(deal.secretShares[id]!));
    const commitments = rounds.map((r) => r.commitments);
    const shares: Record<string, Uint8Array> = {};
    signers.forEach((id, i) => {
      shares[id] = secp256k1_FROST.signShare(
        deal.secretShares[id]!,
        deal.public,
        rounds[i]!.nonces,
        commitments,
        m,
      );
    });
    return bytesToHex(secp256k1_FROST.aggregate(deal.public, commitments, m, shares));
  };
  return { groupKey, sign };
}

export type TestClients = {
  chain: Chain;
  account: PrivateKeyAccount;
  publicClient: PublicClient;
  wallet: WalletClient<Transport, Chain, PrivateKeyAccount>;
  testClient: TestClient;
};

export function clients(l1: DevL1, accountIndex = 0): TestClients {
  const chain = defineChain({
    id: l1.chainId,
    name: "dev-l1",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [l1.rpcUrl] } },
  });
  const account = privateKeyToAccount(l1.accounts[accountIndex]!.privateKey);
  const transport = http(l1.rpcUrl);
  return {
    chain,
    account,
    publicClient: createPublicClient({ chain, transport }) as PublicClient,
    wallet: createWalletClient({ account, chain, transport }),
    testClient: createTestClient({ chain, mode: "hardhat", transport }) as TestClient,
  };
}

/** The custom error name (and args) a failed call or simulation reverted with. */
export async function revertOf(p: Promise<unknown>): Promise<{ name: string; args: readonly unknown[] }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BaseError) {
      const r = err.walk((e) => e instanceof ContractFunctionRevertedError);
      if (r instanceof ContractFunctionRevertedError) {
        return { name: r.data?.errorName ?? r.reason ?? "unknown", args: r.data?.args ?? [] };
      }
    }
    throw err;
  }
  throw new Error("expected a revert, the call succeeded");
}

export type Contract = { address: Address; abi: Abi };
