/**
 * Traces of committed transactions on a chain reached only through a `CallEngineSource` (the
 * RPC worker threads, ADR 0132): the block is re-run on its parent's post-state the way
 * `processBlock` ran it (EIP-4788 and EIP-2935 system calls, then the transactions in order;
 * L1 credits come after the last transaction, so no traced transaction sees them), and each
 * wanted transaction runs with a fresh tracer. A wall-clock deadline is checked between
 * opcodes; the pool's worker timeout stops the thread even if a check is never reached.
 */
import { type Block, createBlock, createBlockFromRLP, createBlockHeaderFromRLP } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import type { EVMMockBlockchainInterface } from "@ethereumjs/evm";
import { RLP } from "@ethereumjs/rlp";
import { bytesToHex } from "@ethereumjs/util";
import { createVM, runTx } from "@ethereumjs/vm";
import type { CallEngineSource } from "../callEngine.ts";
import { createChainCommon } from "../chainConfig.ts";
import { blockCommon } from "../chainState.ts";
import { type ChainLevel, NodeStore, STATE_PREFIX } from "../nodeStore.ts";
import { openStateView } from "../stateView.ts";
import { storeParentBeaconRoot, storeParentBlockHash } from "../systemCalls.ts";
import type { StoredGenesis } from "../writeGenesis.ts";
import { createTracer, type TracerOptions } from "./createTracer.ts";
import type { Hex } from "./hooks.ts";
import { type TraceCallJob, traceCallOn } from "./traceCall.ts";
import { TraceError, TraceErrorCode } from "./traceErrors.ts";
import { traceTx } from "./traceTx.ts";

export type TraceJob = {
  /** RLP of the block to replay (header, transactions, withdrawals). */
  block: Uint8Array;
  /** RLP of its parent's header (the state the block ran on). */
  parentHeader: Uint8Array;
  /** Trace only this transaction (the earlier ones run untraced); absent: all of them. */
  txIndex?: number;
  tracer: TracerOptions;
  /** Wall-clock limit of the whole job. */
  timeoutMs: number;
  /** Largest struct-logger output of one transaction, bytes. */
  maxStructLogBytes?: number;
};

export type TraceJobResult = { txHash: Hex; result: unknown }[];

export type TraceEngine = {
  trace(job: TraceJob): Promise<TraceJobResult>;
  traceCall(job: TraceCallJob): Promise<unknown>;
};

export type TraceEngineOptions = { genesisJson: string; nodeCacheSize?: number };

export function createTraceEngine(opts: TraceEngineOptions, source: CallEngineSource): TraceEngine {
  const stored = JSON.parse(opts.genesisJson) as StoredGenesis;
  const common = createChainCommon(stored.genesis);
  const commons = new Map<string, Common>();
  const db = {
    get: async (key: Uint8Array): Promise<Uint8Array | undefined> => {
      if (key[0] !== STATE_PREFIX) return undefined;
      return source.readNode(Buffer.from(key.subarray(1)).toString("hex"));
    },
  } as unknown as ChainLevel;
  const store = new NodeStore(db, opts.nodeCacheSize ?? 100_000);

  const decode = (raw: Uint8Array): Block => {
    const fields = RLP.decode(raw);
    if (!Array.isArray(fields) || fields.length < 3)
      throw new TraceError(TraceErrorCode.Failed, "stored block does not decode");
    const probe = createBlockHeaderFromRLP(RLP.encode(fields[0] as Uint8Array[]), {
      common,
      setHardfork: true,
      skipConsensusFormatValidation: true,
    });
    const c = blockCommon({ common, commons }, probe.number, probe.timestamp);
    return createBlockFromRLP(raw, { common: c, skipConsensusFormatValidation: true });
  };

  const blockchainFor = (parentNumber: bigint, parentHash: Uint8Array): EVMMockBlockchainInterface => {
    const bc: EVMMockBlockchainInterface = {
      getBlock: async (n: number) => {
        const number = BigInt(n);
        const hash = number === parentNumber ? parentHash : await source.canonicalHash(number);
        if (hash === undefined) throw new Error(`unknown block ${n}`);
        return { hash: () => hash };
      },
      putBlock: async () => {},
      shallowCopy: () => bc,
    };
    return bc;
  };

  const deadlineSignal = (timeoutMs: number): AbortSignal => {
    const deadline = performance.now() + timeoutMs;
    return {
      get aborted() {
        return performance.now() > deadline;
      },
      reason: `execution timeout (${timeoutMs / 1000}s)`,
    } as unknown as AbortSignal;
  };

  return {
    async traceCall(job: TraceCallJob): Promise<unknown> {
      const signal = deadlineSignal(job.timeoutMs);
      const probe = createBlockHeaderFromRLP(job.header, {
        common,
        setHardfork: true,
        skipConsensusFormatValidation: true,
      });
      const c = blockCommon({ common, commons }, probe.number, probe.timestamp);
      const header = createBlockHeaderFromRLP(job.header, { common: c, skipConsensusFormatValidation: true });
      const base = createBlock(
        { header: header.toJSON() },
        { common: c, skipConsensusFormatValidation: true },
      );
      const view = openStateView(c, store, header.stateRoot);
      return traceCallOn(base, view.stateManager, blockchainFor(header.number, header.hash()), job, signal);
    },

    async trace(job: TraceJob): Promise<TraceJobResult> {
      const deadline = performance.now() + job.timeoutMs;
      const secs = job.timeoutMs / 1000;
      const signal = deadlineSignal(job.timeoutMs);
      const block = decode(job.block);
      // The parent may be of an earlier fork: only its state root and hash are used.
      const parent = createBlockHeaderFromRLP(job.parentHeader, {
        common,
        setHardfork: true,
        skipConsensusFormatValidation: true,
      });
      const view = openStateView(block.common, store, parent.stateRoot);
      const vm = await createVM({
        common: block.common,
        stateManager: view.stateManager,
        blockchain: blockchainFor(parent.number, parent.hash()),
      });
      const header = block.header;
      if (block.common.isActivatedEIP(4788))
        await storeParentBeaconRoot(vm, header.parentBeaconBlockRoot as Uint8Array, header.timestamp);
      if (block.common.isActivatedEIP(2935)) await storeParentBlockHash(vm, header.number, header.parentHash);

      const out: TraceJobResult = [];
      let gasUsed = 0n;
      let logIndex = 0;
      const last = job.txIndex ?? block.transactions.length - 1;
      for (let i = 0; i <= last && i < block.transactions.length; i++) {
        const tx = block.transactions[i];
        if (tx === undefined) break;
        if (performance.now() > deadline)
          throw new TraceError(TraceErrorCode.Timeout, `execution timeout (${secs}s)`);
        const txHash = bytesToHex(tx.hash()) as Hex;
        if (job.txIndex !== undefined && i < job.txIndex) {
          const run = await runTx(vm, { tx, block, blockGasUsed: gasUsed, skipHardForkValidation: true });
          gasUsed += run.totalGasSpent;
          logIndex += run.receipt.logs.length;
          continue;
        }
        const tracer = createTracer(job.tracer, {
          blockHash: bytesToHex(block.hash()) as Hex,
          blockNumber: header.number,
          txHash,
          txIndex: i,
          ...(job.maxStructLogBytes !== undefined ? { maxStructLogBytes: job.maxStructLogBytes } : {}),
        });
        const r = await traceTx(vm, block, tx, tracer, { logIndex, blockGasUsed: gasUsed, signal });
        gasUsed += r.run.totalGasSpent;
        logIndex += r.logs;
        out.push({ txHash, result: r.result });
      }
      return out;
    },
  };
}
