import type { Logger } from "@dseq/common";
import { RpcError, RpcErrorCode } from "./errors.ts";
import type { BlockRef, BlockTag } from "./params.ts";
import type { BlockData, ChainReader, RpcBackend } from "./types.ts";

/** Method-level options (the server adds transport limits on top). */
export type MethodOptions = {
  /** web3_clientVersion. */
  clientVersion: string;
  /** net_version; defaults to the chain id in decimal. */
  networkId?: string;
  /** Widest block range one eth_getLogs / eth_getFilterLogs may scan. */
  maxLogsBlockRange: number;
  /** Most logs one query may return. */
  maxLogsResults: number;
  /** Gas ceiling for eth_call / eth_estimateGas (geth's RPCGasCap). */
  gasCap: bigint;
  /** Idle filters are removed after this long (geth: 5 min). */
  filterTimeoutMs: number;
  /** Most filters installed at once. */
  maxFilters: number;
  /** Tip suggestion when recent blocks have no transactions (wei). */
  defaultPriorityFee: bigint;
  /** Blocks sampled by the tip oracle, and the percentile taken. */
  gasPriceOracleBlocks: number;
  gasPriceOraclePercentile: number;
  /** Most blocks one eth_feeHistory may span. */
  maxFeeHistoryBlocks: number;
  /**
   * `eth_getTransactionReceipt` answers a preconfirmed transaction's receipt without being asked
   * (a Flashblocks-style endpoint, ADR 0179). Off: a receipt means the block committed, as on geth,
   * and a caller asks for the preconfirmed one with a second parameter `"pending"`.
   */
  preconfirmedReceipts: boolean;
};

export const defaultMethodOptions: MethodOptions = {
  clientVersion: "dseq/v0.1.0",
  maxLogsBlockRange: 10_000,
  maxLogsResults: 10_000,
  gasCap: 50_000_000n,
  filterTimeoutMs: 5 * 60_000,
  maxFilters: 10_000,
  defaultPriorityFee: 1_000_000n,
  gasPriceOracleBlocks: 20,
  gasPriceOraclePercentile: 60,
  maxFeeHistoryBlocks: 1024,
  preconfirmedReceipts: false,
};

export type Services = {
  backend: RpcBackend;
  chain: ChainReader;
  opts: MethodOptions;
  logger: Logger;
};

export function headerNotFound(): RpcError {
  return new RpcError(RpcErrorCode.Server, "header not found");
}

/** Block number a tag stands for. `pending` is `latest`: the node keeps no pending block. */
export function tagNumber(chain: ChainReader, tag: BlockTag): bigint {
  const heads = chain.heads();
  switch (tag) {
    case "latest":
    case "pending":
      return heads.latest;
    case "safe":
      return heads.safe;
    case "finalized":
      return heads.finalized;
    case "earliest":
      return chain.earliest();
  }
}

/** Resolves a block reference to a block for the block-returning methods (missing -> undefined). */
export async function blockOf(chain: ChainReader, ref: BlockRef): Promise<BlockData | undefined> {
  if (ref.kind === "hash") return chain.getBlockByHash(ref.hash);
  const n = ref.kind === "tag" ? tagNumber(chain, ref.tag) : ref.number;
  if (n > chain.heads().latest) return undefined;
  return chain.getBlockByNumber(n);
}

/** Resolves a block reference for state reads; an unknown block is geth's "header not found". */
export async function stateBlock(chain: ChainReader, ref: BlockRef): Promise<bigint> {
  if (ref.kind === "hash") {
    const block = await chain.getBlockByHash(ref.hash);
    if (block === undefined) throw new RpcError(RpcErrorCode.Server, "header for hash not found");
    if (ref.requireCanonical) {
      const canonical = await chain.getHeader(block.header.number);
      if (canonical?.hash !== block.header.hash) {
        throw new RpcError(RpcErrorCode.Server, "hash is not currently canonical");
      }
    }
    return block.header.number;
  }
  const n = ref.kind === "tag" ? tagNumber(chain, ref.tag) : ref.number;
  if (n > chain.heads().latest) throw headerNotFound();
  return n;
}

export function isPending(ref: BlockRef): boolean {
  return ref.kind === "tag" && ref.tag === "pending";
}
