/**
 * The adapter from l2-exec's Chain and txpool's TxPool to the rpc package's small interfaces
 * (ChainReader, TxPoolView): plain data across the boundary, formatted by the rpc package.
 */
import { bytesToHex, type Hex } from "@dseq/common";
import {
  type CallJob,
  type Chain,
  type CallResult as ExecCallResult,
  nextBlockOverrides,
} from "@dseq/l2-exec";
import {
  type AccessListEntry,
  type AccountProofData,
  type Address,
  type BlobParams,
  type BlockData,
  type BlockHeaderData,
  type CallRequest,
  type CallResult,
  type ChainReader,
  type PreconfirmedReader,
  type PreconfirmedReceiptData,
  type PreconfirmedStateData,
  type ReceiptData,
  RpcError,
  RpcErrorCode,
  type TransactionData,
  type TxPoolView,
} from "@dseq/rpc";
import type { TxPool } from "@dseq/txpool";
import type { Block } from "@ethereumjs/block";
import type { TypedTransaction } from "@ethereumjs/tx";
import type { PreconfirmedState } from "./preconf/pendingState.ts";
import type { CallPool } from "./rpc/callPool.ts";
import { CallPoolError, CallPoolErrorCode } from "./rpc/callPoolErrors.ts";
import { forkConfigOf } from "./rpc/forkConfig.ts";
import { simulateOf } from "./rpc/simulateBackend.ts";
import { callArgsOf, traceBlockOf, traceCallOf } from "./rpc/traceBackend.ts";

export type ChainReaderOptions = {
  /** Runs calls off the consensus thread (ADR 0130); in this thread when absent (tests, tools). */
  callPool?: CallPool;
  /** The chain's slot: the next block is stamped `parent + blockTime` (ADR 0093, 0131). */
  blockTimeMs?: number;
  /**
   * The preconfirmed state (ADR 0176): a call in the next block's context on the head (`pending`,
   * estimates) runs after the preconfirmed transactions, in this thread. Absent: on the head.
   */
  preconfirmed?: PreconfirmedState;
};

/** A pool refusal or timeout is the caller's answer, not an `invalid` call result. */
function poolErrorToRpc(err: CallPoolError): RpcError {
  switch (err.code) {
    case CallPoolErrorCode.Busy:
      return new RpcError(RpcErrorCode.LimitExceeded, err.message);
    case CallPoolErrorCode.Aborted:
      return new RpcError(RpcErrorCode.Timeout, "request timed out");
    default:
      return new RpcError(RpcErrorCode.Server, err.message);
  }
}

// @ethereumjs toJSON() writes empty byte strings ("0x") for zero in some fields (authorizations).
const big = (h: string | undefined): bigint => (h === undefined || h === "0x" ? 0n : BigInt(h));

export function txToData(tx: TypedTransaction): TransactionData {
  const j = tx.toJSON();
  const type = tx.type;
  const out: TransactionData = {
    type,
    hash: bytesToHex(tx.hash()),
    from: tx.getSenderAddress().toString() as Address,
    nonce: big(j.nonce),
    to: j.to === undefined ? null : (j.to.toLowerCase() as Address),
    value: big(j.value),
    gas: big(j.gasLimit),
    input: (j.data ?? "0x") as Hex,
    v: big(j.v),
    r: big(j.r),
    s: big(j.s),
  };
  if (j.gasPrice !== undefined) out.gasPrice = big(j.gasPrice);
  if (j.maxFeePerGas !== undefined) out.maxFeePerGas = big(j.maxFeePerGas);
  if (j.maxPriorityFeePerGas !== undefined) out.maxPriorityFeePerGas = big(j.maxPriorityFeePerGas);
  if (j.maxFeePerBlobGas !== undefined) out.maxFeePerBlobGas = big(j.maxFeePerBlobGas);
  if (type !== 0 && j.chainId !== undefined) out.chainId = big(j.chainId);
  if (j.accessList !== undefined) {
    out.accessList = j.accessList.map((e) => ({
      address: e.address.toLowerCase() as Address,
      storageKeys: e.storageKeys.map((k) => k.toLowerCase() as Hex),
    }));
  }
  if (j.blobVersionedHashes !== undefined) out.blobVersionedHashes = j.blobVersionedHashes as Hex[];
  if (j.authorizationList !== undefined) {
    out.authorizationList = j.authorizationList.map((a) => ({
      chainId: big(a.chainId),
      address: a.address.toLowerCase() as Address,
      nonce: big(a.nonce),
      yParity: Number(big(a.yParity)),
      r: big(a.r),
      s: big(a.s),
    }));
  }
  return out;
}

const txCache = new WeakMap<Block, TransactionData[]>();

export function blockToData(block: Block): BlockData {
  let txs = txCache.get(block);
  if (txs === undefined) {
    txs = block.transactions.map(txToData);
    txCache.set(block, txs);
  }
  const out: BlockData = {
    header: headerToData(block),
    size: BigInt(block.serialize().length),
    transactions: txs,
    uncles: block.uncleHeaders.map((u) => bytesToHex(u.hash())),
  };
  if (block.withdrawals !== undefined) {
    out.withdrawals = block.withdrawals.map((w) => ({
      index: w.index,
      validatorIndex: w.validatorIndex,
      address: w.address.toString() as Address,
      amount: w.amount,
    }));
  }
  return out;
}

export function headerToData(block: Block): BlockHeaderData {
  const h = block.header;
  const out: BlockHeaderData = {
    hash: bytesToHex(h.hash()),
    parentHash: bytesToHex(h.parentHash),
    sha3Uncles: bytesToHex(h.uncleHash),
    miner: h.coinbase.toString() as Address,
    stateRoot: bytesToHex(h.stateRoot),
    transactionsRoot: bytesToHex(h.transactionsTrie),
    receiptsRoot: bytesToHex(h.receiptTrie),
    logsBloom: bytesToHex(h.logsBloom),
    difficulty: h.difficulty,
    number: h.number,
    gasLimit: h.gasLimit,
    gasUsed: h.gasUsed,
    timestamp: h.timestamp,
    extraData: bytesToHex(h.extraData),
    mixHash: bytesToHex(h.mixHash),
    nonce: bytesToHex(h.nonce),
  };
  if (h.baseFeePerGas !== undefined) out.baseFeePerGas = h.baseFeePerGas;
  if (h.withdrawalsRoot !== undefined) out.withdrawalsRoot = bytesToHex(h.withdrawalsRoot);
  if (h.blobGasUsed !== undefined) out.blobGasUsed = h.blobGasUsed;
  if (h.excessBlobGas !== undefined) out.excessBlobGas = h.excessBlobGas;
  if (h.parentBeaconBlockRoot !== undefined) out.parentBeaconBlockRoot = bytesToHex(h.parentBeaconBlockRoot);
  if (h.requestsHash !== undefined) out.requestsHash = bytesToHex(h.requestsHash);
  return out;
}

/** ChainReader on an l2-exec Chain. */
export function chainReader(chain: Chain, opts: ChainReaderOptions = {}): ChainReader {
  const blockTimeSec = BigInt((opts.blockTimeMs ?? 2000) / 1000);
  const headerRlp = new WeakMap<Block, Uint8Array>();
  const rlpOf = (b: Block): Uint8Array => {
    let r = headerRlp.get(b);
    if (r === undefined) {
      r = b.header.serialize();
      headerRlp.set(b, r);
    }
    return r;
  };
  const blockData = new WeakMap<Block, BlockData>();
  const toData = (b: Block | undefined): BlockData | undefined => {
    if (b === undefined) return undefined;
    let d = blockData.get(b);
    if (d === undefined) {
      d = blockToData(b);
      blockData.set(b, d);
    }
    return d;
  };
  const gasCapCache = new Map<bigint, bigint | null>();
  return {
    chainId: chain.chainId,
    ...(opts.preconfirmed ? { preconfirmed: preconfirmedReader(chain, opts.preconfirmed) } : {}),
    heads: () => ({
      latest: chain.head().header.number,
      safe: chain.safe().header.number,
      finalized: chain.finalized().header.number,
    }),
    earliest: () => 0n,
    traceBlock: traceBlockOf(chain, opts.callPool),
    traceCall: traceCallOf(chain, opts.callPool),
    simulate: simulateOf(chain, opts.callPool, blockTimeSec),
    forkConfig: forkConfigOf(chain),
    getBlockByNumber: async (n) => toData(await chain.getBlockByNumber(n)),
    getBlockByHash: async (h) => toData(await chain.getBlockByHash(h)),
    getHeader: async (n) => {
      const b = await chain.getBlockByNumber(n);
      return b === undefined ? undefined : (toData(b) as BlockData).header;
    },
    getReceipts: async (hash): Promise<ReceiptData[] | undefined> => {
      const rs = await chain.getReceipts(hash);
      return rs?.map((r) => {
        const out: ReceiptData = {
          cumulativeGasUsed: r.cumulativeGasUsed,
          gasUsed: r.gasUsed,
          logsBloom: r.logsBloom,
          logs: r.logs.map((l) => ({ address: l.address, topics: l.topics, data: l.data })),
          contractAddress: r.contractAddress,
          effectiveGasPrice: r.effectiveGasPrice,
        };
        if (r.status !== undefined) out.status = r.status;
        if (r.root !== undefined) out.root = r.root;
        if (r.blobGasUsed !== undefined) out.blobGasUsed = r.blobGasUsed;
        if (r.blobGasPrice !== undefined) out.blobGasPrice = r.blobGasPrice;
        return out;
      });
    },
    getTransactionLocation: async (hash) => {
      const t = await chain.getTransaction(hash);
      return t === undefined ? undefined : { blockHash: t.blockHash, index: t.index };
    },
    getAccount: async (a, n) => {
      const acc = await chain.getAccount(a, n);
      return { nonce: acc?.nonce ?? 0n, balance: acc?.balance ?? 0n };
    },
    getCode: async (a, n) => bytesToHex(await chain.getCode(a, n)),
    getStorageAt: async (a, slot, n) => bytesToHex(await chain.getStorageAt(a, slot, n)),
    getProof: async (a, slots, n): Promise<AccountProofData> => {
      const p = await chain.getProof(a, slots, n);
      return {
        address: p.address.toLowerCase() as Address,
        accountProof: p.accountProof as Hex[],
        balance: BigInt(p.balance),
        codeHash: p.codeHash as Hex,
        nonce: BigInt(p.nonce),
        storageHash: p.storageHash as Hex,
        storageProof: p.storageProof.map((s) => ({
          key: s.key as Hex,
          value: BigInt(s.value),
          proof: s.proof as Hex[],
        })),
      };
    },
    call: async (req: CallRequest, n, callOpts): Promise<CallResult> => {
      const args = callArgsOf(req);
      const trace = callOpts?.traceAccessList === true;
      const block = await chain.getBlockByNumber(n);
      if (block === undefined) return { status: "invalid", error: "header not found" };
      const env = {
        ...(callOpts?.nextBlock === true ? nextBlockOverrides(block.header, blockTimeSec) : {}),
        ...callOpts?.blockOverrides,
      };
      const execOpts = { accessList: trace, ...(Object.keys(env).length === 0 ? {} : { block: env }) };
      try {
        let r: ExecCallResult;
        const preconfirmed =
          callOpts?.nextBlock === true && n === chain.head().header.number
            ? await opts.preconfirmed?.state()
            : undefined;
        if (preconfirmed !== undefined)
          r = await chain.call(args, preconfirmed, callOpts?.overrides, execOpts);
        else if (opts.callPool === undefined) r = await chain.call(args, n, callOpts?.overrides, execOpts);
        else {
          const job: CallJob = { header: rlpOf(block), args, opts: execOpts };
          if (callOpts?.overrides !== undefined) job.overrides = callOpts.overrides;
          r = await opts.callPool.run(job, callOpts?.signal);
        }
        const extra = trace ? { accessList: (r.accessList ?? []) as AccessListEntry[] } : {};
        const returnData = bytesToHex(r.returnData);
        if (!r.reverted)
          return { status: "success", returnData, gasUsed: r.gasUsed, gasRefund: 0n, ...extra };
        if (r.error === "revert")
          return { status: "reverted", returnData, gasUsed: r.gasUsed, gasRefund: 0n, ...extra };
        return {
          status: "failed",
          error: r.error ?? "execution failed",
          gasUsed: r.gasUsed,
          gasRefund: 0n,
          ...extra,
        };
      } catch (err) {
        if (err instanceof CallPoolError) throw poolErrorToRpc(err);
        const message = err instanceof Error ? err.message : String(err);
        return {
          status: "invalid",
          error: message,
          intrinsicGasTooLow: /intrinsic[ _]gas|gas limit is too low|lower than the minimum gas limit/i.test(
            message,
          ),
        };
      }
    },
    txGasCap: (n) => {
      // Common.copy() costs about a millisecond: answer from the fork of the block, cached.
      const cached = gasCapCache.get(n);
      if (cached !== undefined) return cached ?? undefined;
      const c = chain.common.copy();
      c.setHardforkBy({ blockNumber: n, timestamp: chain.head().header.timestamp });
      const cap = c.isActivatedEIP(7825) ? 16_777_216n : null;
      if (gasCapCache.size > 1024) gasCapCache.clear();
      gasCapCache.set(n, cap);
      return cap ?? undefined;
    },
    blobParams: (timestamp): BlobParams | undefined => {
      const c = chain.common.copy();
      c.setHardforkBy({ blockNumber: chain.head().header.number, timestamp });
      if (!c.isActivatedEIP(4844)) return undefined;
      const perBlob = 131_072n;
      return {
        target: Number(c.param("targetBlobGasPerBlock") / perBlob),
        max: Number(c.param("maxBlobGasPerBlock") / perBlob),
        baseFeeUpdateFraction: c.param("blobGasPriceUpdateFraction"),
      };
    },
    getRawBlock: async (h) => {
      const raw = await chain.getRawBlock(h);
      return raw === undefined ? undefined : bytesToHex(raw);
    },
    getRawHeader: async (h) => {
      const raw = await chain.getRawHeader(h);
      return raw === undefined ? undefined : bytesToHex(raw);
    },
    getRawReceipts: async (h) => (await chain.getRawReceipts(h))?.map((r) => bytesToHex(r)),
    getRawTransaction: async (h) => {
      const raw = await chain.getRawTransaction(h);
      return raw === undefined ? undefined : bytesToHex(raw);
    },
  };
}

/**
 * The rpc's preconfirmed view (ADR 0176, 0177) on the node's preconfirmed state: state reads on
 * the built prefix, and a receipt lookup that builds only when the prefix holds the transaction
 * (an unknown hash, the common poll, costs no execution).
 */
export function preconfirmedReader(
  chain: Pick<Chain, "getAccount" | "getCode" | "getStorageAt">,
  pre: PreconfirmedState,
): PreconfirmedReader {
  return {
    state: async (): Promise<PreconfirmedStateData | undefined> => {
      const at = await pre.state();
      if (at === undefined) return undefined;
      return {
        getAccount: async (a) => {
          const acc = await chain.getAccount(a, at);
          return { nonce: acc?.nonce ?? 0n, balance: acc?.balance ?? 0n };
        },
        getCode: async (a) => bytesToHex(await chain.getCode(a, at)),
        getStorageAt: async (a, slot) => bytesToHex(await chain.getStorageAt(a, slot, at)),
      };
    },
    receipt: async (txHash): Promise<PreconfirmedReceiptData | undefined> => {
      if (!pre.holds(txHash)) return undefined;
      const built = await pre.build();
      const r = built?.receipts.get(txHash.toLowerCase() as Hex);
      if (built === undefined || r === undefined) return undefined;
      const receipt: ReceiptData = {
        cumulativeGasUsed: r.cumulativeGasUsed,
        gasUsed: r.gasUsed,
        logsBloom: r.logsBloom,
        logs: r.logs,
        contractAddress: r.contractAddress as Address | null,
        effectiveGasPrice: r.effectiveGasPrice,
        ...(r.status !== undefined ? { status: r.status } : {}),
      };
      return {
        receipt,
        tx: { type: r.type, hash: r.transactionHash, from: r.from, to: r.to },
        blockNumber: built.height,
        timestamp: built.timestamp,
        index: r.transactionIndex,
        firstLogIndex: r.firstLogIndex,
      };
    },
  };
}

/** TxPoolView on a @dseq/txpool TxPool. */
export function txPoolView(pool: TxPool): TxPoolView {
  const data = (hash: Hex): TransactionData | undefined => {
    const p = pool.get(hash);
    return p === undefined ? undefined : txToData(p.tx);
  };
  const group = (rec: Record<string, Record<string, { hash: Hex }>>): Map<Address, TransactionData[]> => {
    const out = new Map<Address, TransactionData[]>();
    for (const [sender, byNonce] of Object.entries(rec)) {
      out.set(
        sender as Address,
        Object.values(byNonce).map((i) => data(i.hash) as TransactionData),
      );
    }
    return out;
  };
  return {
    status: () => pool.status(),
    content: () => {
      const c = pool.content();
      return { pending: group(c.pending), queued: group(c.queued) };
    },
    contentFrom: (a) => {
      const c = pool.contentFrom(a);
      return {
        pending: Object.values(c.pending).map((i) => data(i.hash) as TransactionData),
        queued: Object.values(c.queued).map((i) => data(i.hash) as TransactionData),
      };
    },
    pendingNonce: (a) => pool.pendingNonce(a),
    getTransaction: data,
  };
}
