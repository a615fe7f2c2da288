import {
  type Address,
  type Chain,
  encodeFunctionData,
  type Hex,
  type PrivateKeyAccount,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";
import { dataToBlobs, loadKzg } from "../codec/blobs.ts";
import { BatchDataKind } from "../codec/header.ts";
import { inboxAbi } from "./inboxAbi.ts";
import type { InFlight, SentTx } from "./submitterState.ts";

export type FeeOptions = {
  /** Replacement bump on maxFeePerGas and the tip, percent (nodes require at least 10). */
  bumpPercent: number;
  /** Replacement bump on maxFeePerBlobGas, percent (geth requires 100 for blob transactions). */
  blobBumpPercent: number;
  /** Never offer more than this per gas (wei). */
  maxFeePerGasCap: bigint;
  /** Gas limit of a blob batch transaction (estimation cannot see the blobs' hashes). */
  blobTxGas: bigint;
};

export const defaultFeeOptions: FeeOptions = {
  bumpPercent: 15,
  blobBumpPercent: 100,
  maxFeePerGasCap: 500_000_000_000n,
  blobTxGas: 300_000n,
};

export type SendCtx = {
  inbox: Address;
  publicClient: PublicClient;
  wallet: WalletClient<Transport, Chain, PrivateKeyAccount>;
  fees: FeeOptions;
};

const bump = (x: bigint, pct: number) => x + (x * BigInt(Math.round(pct * 100))) / 10_000n + 1n;
const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

/**
 * Fees of the next offer: the current estimate, or the last offer bumped by `bumpPercent` (both the
 * fee cap and the tip, as replacement rules require), whichever is higher; capped.
 */
export function nextFees(
  est: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
  prev: Pick<SentTx, "maxFeePerGas" | "maxPriorityFeePerGas"> | undefined,
  fees: FeeOptions,
): { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } {
  let maxPriorityFeePerGas = est.maxPriorityFeePerGas;
  let maxFeePerGas = est.maxFeePerGas;
  if (prev) {
    maxPriorityFeePerGas = max(maxPriorityFeePerGas, bump(prev.maxPriorityFeePerGas, fees.bumpPercent));
    maxFeePerGas = max(maxFeePerGas, bump(prev.maxFeePerGas, fees.bumpPercent));
  }
  maxFeePerGas = min(max(maxFeePerGas, maxPriorityFeePerGas), fees.maxFeePerGasCap);
  maxPriorityFeePerGas = min(maxPriorityFeePerGas, maxFeePerGas);
  return { maxFeePerGas, maxPriorityFeePerGas };
}

/** Blob fee of the next offer: twice the blob base fee, or the last offer bumped by `blobBumpPercent`. */
export function nextBlobFee(blobBaseFee: bigint, prev: SentTx | undefined, fees: FeeOptions): bigint {
  const fresh = blobBaseFee * 2n + 1n;
  return prev?.maxFeePerBlobGas === undefined
    ? fresh
    : max(fresh, bump(prev.maxFeePerBlobGas, fees.blobBumpPercent));
}

/**
 * Sends (or replaces, same nonce) the transaction of the batch in flight. Fees are the current
 * estimate, or the last offer bumped by the replacement rules, whichever is higher, capped.
 */
export async function sendBatchTx(ctx: SendCtx, f: InFlight): Promise<SentTx> {
  const est = await ctx.publicClient.estimateFeesPerGas();
  const prev = f.txs[f.txs.length - 1];
  const { maxFeePerGas, maxPriorityFeePerGas } = nextFees(est, prev, ctx.fees);
  const sentAtMs = Date.now();
  if (f.header.dataKind === BatchDataKind.calldata) {
    const data = encodeFunctionData({
      abi: inboxAbi,
      functionName: "appendBatch",
      args: [f.header, toHex(f.data), f.signature],
    });
    // Estimated once, on the latest block (with the original pending, a replacement's estimate
    // would revert with WrongBatchIndex); replacements reuse it.
    const gas =
      prev?.gas ??
      ((await ctx.publicClient.estimateGas({
        account: ctx.wallet.account,
        to: ctx.inbox,
        data,
        blockTag: "latest",
      })) *
        6n) /
        5n;
    const hash = await ctx.wallet.sendTransaction({
      to: ctx.inbox,
      data,
      gas,
      nonce: f.nonce,
      maxFeePerGas,
      maxPriorityFeePerGas,
    });
    return { hash, gas, maxFeePerGas, maxPriorityFeePerGas, sentAtMs };
  }
  const maxFeePerBlobGas = nextBlobFee(await ctx.publicClient.getBlobBaseFee(), prev, ctx.fees);
  const data = encodeFunctionData({
    abi: inboxAbi,
    functionName: "appendBatchBlobs",
    args: [f.header, f.signature],
  });
  const hash = await ctx.wallet.sendTransaction({
    to: ctx.inbox,
    data,
    nonce: f.nonce,
    gas: ctx.fees.blobTxGas,
    maxFeePerGas,
    maxPriorityFeePerGas,
    maxFeePerBlobGas,
    blobs: dataToBlobs(f.data),
    kzg: loadKzg(),
  } as never);
  return { hash, gas: ctx.fees.blobTxGas, maxFeePerGas, maxPriorityFeePerGas, maxFeePerBlobGas, sentAtMs };
}

function toHex(b: Uint8Array): Hex {
  return `0x${Buffer.from(b).toString("hex")}`;
}
