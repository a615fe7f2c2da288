// Shared test plumbing: a FROST group made with @noble/curves (a trusted dealer: the signing code
// under test is the L1 check, not the DKG), viem clients on the dev L1, and revert matching.
import { secp256k1, secp256k1_FROST } from "@noble/curves/secp256k1.js";
import cKzg from "c-kzg";
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
  decodeErrorResult,
  defineChain,
  type Hex,
  hexToBytes,
  http,
  type Kzg,
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

/**
 * The 160-byte form of a signature, five big-endian words rx || ry || z || px || py (the layout of
 * mpc-tss's `l1SignatureBytes`, ADR 0084), built here independently from the RFC serialization.
 */
export function toAffineSignature(sig: Hex, groupKey: Hex): Hex {
  const b = hexToBytes(sig);
  const r = secp256k1.Point.fromBytes(b.slice(0, 33)).toAffine();
  const pk = secp256k1.Point.fromBytes(hexToBytes(groupKey)).toAffine();
  const w = (x: bigint) => x.toString(16).padStart(64, "0");
  return `0x${w(r.x)}${w(r.y)}${bytesToHex(b.slice(33)).slice(2)}${w(pk.x)}${w(pk.y)}`;
}

/**
 * The 96-byte form rx || ry || z (R affine, the key is the verifier's own; mpc-tss's
 * `l1CompactSignatureBytes`, ADR 0156): the first three words of {@link toAffineSignature}.
 */
export function toCompactSignature(sig: Hex): Hex {
  const b = hexToBytes(sig);
  const r = secp256k1.Point.fromBytes(b.slice(0, 33)).toAffine();
  const w = (x: bigint) => x.toString(16).padStart(64, "0");
  return `0x${w(r.x)}${w(r.y)}${bytesToHex(b.slice(33)).slice(2)}`;
}

export function clients(l1: DevL1, accountIndex = 0): TestClients {
  const chain = defineChain({
    id: l1.chainId,
    name: "dev-l1",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [l1.rpcUrl] } },
  });
  const account = privateKeyToAccount(l1.accounts[accountIndex]!.privateKey);
  // Generous: EDR verifies blob KZG proofs on submission (the first one also loads its setup).
  const transport = http(l1.rpcUrl, { timeout: 90_000 });
  return {
    chain,
    account,
    publicClient: createPublicClient({ chain, transport }) as PublicClient,
    wallet: createWalletClient({ account, chain, transport }),
    testClient: createTestClient({ chain, mode: "hardhat", transport }) as TestClient,
  };
}

/**
 * The custom error name (and args) a failed call or simulation reverted with. `abi` decodes raw
 * revert data when viem could not (deployments, plain eth_call).
 */
export async function revertOf(
  p: Promise<unknown>,
  abi?: Abi,
): Promise<{ name: string; args: readonly unknown[] }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BaseError) {
      const r = err.walk((e) => e instanceof ContractFunctionRevertedError);
      if (r instanceof ContractFunctionRevertedError && r.data) {
        return { name: r.data.errorName, args: r.data.args ?? [] };
      }
      const withData = err.walk((e) => typeof (e as { data?: unknown }).data === "string") as {
        data: Hex;
      } | null;
      if (abi && withData && withData.data.length >= 10) {
        const d = decodeErrorResult({ abi, data: withData.data });
        return { name: d.errorName, args: d.args ?? [] };
      }
      if (r instanceof ContractFunctionRevertedError) return { name: r.reason ?? "unknown", args: [] };
    }
    throw err;
  }
  throw new Error("expected a revert, the call succeeded");
}

let kzgLoaded = false;

/** viem's Kzg on the native c-kzg-4844 binding with its bundled mainnet trusted setup. */
export function loadKzg(): Kzg {
  if (!kzgLoaded) {
    cKzg.loadTrustedSetup(0);
    kzgLoaded = true;
  }
  return { blobToKzgCommitment: cKzg.blobToKzgCommitment, computeBlobKzgProof: cKzg.computeBlobKzgProof };
}

export type Contract = { address: Address; abi: Abi };
