import { type Address, createPublicClient, type Hex, http, type PublicClient } from "viem";
import type { BatchTip } from "../codec/header.ts";
import { inboxAbi } from "./inboxAbi.ts";

/** The inbox tip (last batch index, its hash, its last L2 block) at L1's latest block. */
export async function readInboxTip(client: PublicClient, inbox: Address): Promise<BatchTip> {
  const read = (functionName: "lastBatchIndex" | "lastBatchHash" | "lastL2Block") =>
    client.readContract({ address: inbox, abi: inboxAbi, functionName } as never) as Promise<unknown>;
  const [batchIndex, batchHash, lastBlock] = await Promise.all([
    read("lastBatchIndex"),
    read("lastBatchHash"),
    read("lastL2Block"),
  ]);
  return { batchIndex: batchIndex as bigint, batchHash: batchHash as Hex, lastBlock: lastBlock as bigint };
}

/** A reader of one inbox's tip over its own HTTP client (signers and /health use it). */
export function inboxTipReader(rpcUrl: string, inbox: Address, timeoutMs = 5_000): () => Promise<BatchTip> {
  const client = createPublicClient({ transport: http(rpcUrl, { timeout: timeoutMs, retryCount: 0 }) });
  return () => readInboxTip(client as PublicClient, inbox);
}
