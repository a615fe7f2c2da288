import {
  type Address,
  createPublicClient,
  decodeFunctionData,
  type Hex,
  http,
  type PublicClient,
} from "viem";
import { inboxAbi } from "./inboxAbi.ts";

/** One `BatchAppended` as L1 holds it, with the calldata batch's data (undefined for blobs). */
export type AppendedBatch = {
  batchIndex: bigint;
  firstBlock: bigint;
  lastBlock: bigint;
  lastBlockHash: Hex;
  stateRoot: Hex;
  dataKind: number;
  submitter: Hex;
  txHash: Hex;
  l1Block: bigint;
  data?: Uint8Array;
};

/**
 * A small reader of one inbox for operators and tests: every appended batch (in L1 order) and
 * the inbox's views. Not the verifier's derivation (that checks everything; this trusts L1's RPC).
 */
export function inboxReader(rpcUrl: string, inbox: Address) {
  const client = createPublicClient({ transport: http(rpcUrl, { timeout: 10_000 }) }) as PublicClient;
  const view = <T>(functionName: "groupKey" | "lastL2Block" | "lastStateRoot" | "lastBatchIndex") =>
    client.readContract({ address: inbox, abi: inboxAbi, functionName } as never) as Promise<T>;
  return {
    groupKey: () => view<Hex>("groupKey"),
    lastL2Block: () => view<bigint>("lastL2Block"),
    lastStateRoot: () => view<Hex>("lastStateRoot"),
    lastBatchIndex: () => view<bigint>("lastBatchIndex"),
    async batches(opts: { withData?: boolean } = {}): Promise<AppendedBatch[]> {
      const logs = await client.getContractEvents({
        address: inbox,
        abi: inboxAbi,
        eventName: "BatchAppended",
        fromBlock: 0n,
      });
      const out: AppendedBatch[] = [];
      for (const l of logs) {
        const a = l.args as unknown as Omit<AppendedBatch, "txHash" | "l1Block" | "data">;
        const b: AppendedBatch = {
          ...a,
          submitter: a.submitter.toLowerCase() as Hex,
          txHash: l.transactionHash as Hex,
          l1Block: l.blockNumber as bigint,
        };
        if (opts.withData && a.dataKind === 0) {
          const tx = await client.getTransaction({ hash: b.txHash });
          const call = decodeFunctionData({ abi: inboxAbi, data: tx.input });
          const data = (call.args as readonly unknown[])[1] as Hex;
          b.data = new Uint8Array(Buffer.from(data.slice(2), "hex"));
        }
        out.push(b);
      }
      return out;
    },
  };
}
