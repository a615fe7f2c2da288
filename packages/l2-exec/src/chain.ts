import { EventBus, type Logger, type Metrics } from "@dseq/common";
import { keccak256, logCryptoBackend } from "@dseq/crypto";
import {
  type Block,
  type BlockHeader,
  createBlock,
  createBlockFromBytesArray,
  createBlockFromRLP,
} from "@ethereumjs/block";
import type { Common, GethGenesis } from "@ethereumjs/common";
import type { EVMMockBlockchainInterface } from "@ethereumjs/evm";
import { RLP } from "@ethereumjs/rlp";
import { getMerkleStateProof, type Proof } from "@ethereumjs/statemanager";
import { createTxFromRLP, type TypedTransaction } from "@ethereumjs/tx";
import {
  type Account,
  bytesToHex,
  createAddressFromString,
  equalsBytes,
  hexToBytes,
  setLengthLeft,
  type WithdrawalData,
} from "@ethereumjs/util";
import { Bloom, type TxReceipt } from "@ethereumjs/vm";
import { Level } from "level";
import { blockOverheadBytes, DEFAULT_MAX_BLOCK_BYTES } from "./blockBytes.ts";
import {
  type CallArgs,
  type CallOptions,
  type CallResult,
  call,
  estimateGas,
  type StateOverrides,
} from "./calls.ts";
import { type ChainConfig, chainConfigToGethGenesis, createChainCommon } from "./chainConfig.ts";
import { L2ExecError, L2ExecErrorCode } from "./errors.ts";
import {
  type BlockTimings,
  compareHeader,
  type ExecEnv,
  encodeBlock,
  type HeaderDifference,
  type ProcessResult,
  processBlock,
  type SkippedTx,
  type TxSource,
} from "./execute.ts";
import { buildGenesisBlock, buildGenesisState } from "./genesis.ts";
import { type L1Entry, l1EntriesToWithdrawals } from "./l1Entries.ts";
import { type ChainLevel, NodeStore, OverlayDB } from "./nodeStore.ts";
import { enrichReceipts, type Hex, type LogInfo, type ReceiptInfo } from "./receipts.ts";
import { openStateView, type StateView } from "./stateView.ts";
import {
  type BatchOp,
  blockKey,
  bloomKey,
  canonicalKey,
  certificateKey,
  decodeTxLookup,
  encodeTxLookup,
  type HeadName,
  headKey,
  metaKey,
  receiptsKey,
  txLookupKey,
} from "./store.ts";

export type ChainEvents = {
  /** A block became the latest head (payload is plain and cloneable). */
  "chain.committed": {
    number: bigint;
    hash: Hex;
    parentHash: Hex;
    stateRoot: Hex;
    txCount: number;
    gasUsed: bigint;
    timestamp: bigint;
  };
  /** Safe or finalized head moved. */
  "chain.head": { name: HeadName; number: bigint; hash: Hex };
};

export type CreateChainOptions = {
  /** Directory of the LevelDB store (created when missing). */
  dataDir: string;
  /** A dseq L2 chain (Prague, no blob transactions). */
  chainConfig?: ChainConfig;
  /** Any geth-format genesis (its config decides the rules; no L2 policy). */
  genesis?: GethGenesis;
  logger?: Logger;
  metrics?: Metrics;
  /**
   * fsync every commit batch (default true): a decided block is on disk when `commit`
   * resolves, so a power cut cannot lose it after consensus moved on (the driver compacts its
   * WAL once a commit returns). `false` only for tests and benchmarks: a killed process still
   * loses nothing, a power cut may lose the last commits.
   */
  syncWrites?: boolean;
  /**
   * Largest block, `block.serialize()` in bytes (default 2 MiB). A consensus rule: `buildBlock`
   * never exceeds it and `executeBlock` reports a larger block as invalid.
   */
  maxBlockBytes?: number;
  /** State-trie nodes kept in memory (shared by all state views). Default 200,000 (~100 MB). */
  stateCacheSize?: number;
  /** Use the pure-JS crypto in @ethereumjs (benchmarks only). */
  nobleCrypto?: boolean;
};

export type BuildBlockOptions = {
  /** Parent block (default: the latest head). Must be committed. */
  parent?: Block;
  /**
   * Candidate transactions in execution order (typed or serialized), or a source pulled one
   * transaction at a time until it says stop: a proposer can keep executing transactions
   * while they arrive and seal the block at its slot.
   */
  txs: readonly (TypedTransaction | Uint8Array)[] | BuildTxSource;
  timestamp: bigint;
  /** The proposer's fee recipient. */
  coinbase: Hex;
  /** L1-derived balance credits (deposits, rewards), carried as the block's withdrawals. */
  l1Entries?: readonly L1Entry[];
  /** Up to 32 bytes of consensus data (round, proposer, ...), encoded by the node. */
  extraData?: Uint8Array;
  /**
   * Byte cap of this block (default and upper bound: the chain's `maxBlockBytes`). A
   * transaction whose bytes do not fit what is left is skipped as `block_bytes` and the build
   * goes on with the next one, as for gas.
   */
  maxBlockBytes?: number;
};

/** Defaults of `CreateChainOptions` (the fields that have one). */
export const defaultCreateChainOptions = {
  syncWrites: true,
  maxBlockBytes: DEFAULT_MAX_BLOCK_BYTES,
  stateCacheSize: 200_000,
} as const satisfies Partial<CreateChainOptions>;

/**
 * Pulled by `buildBlock` until it resolves to undefined; may wait for transactions to arrive.
 * `gasLeft` and `bytesLeft` are what the block can still take: a candidate over either is
 * skipped, so a source may as well offer something smaller.
 */
export type BuildTxSource = {
  next(gasLeft: bigint, bytesLeft: number): Promise<TypedTransaction | Uint8Array | undefined>;
};

/** A state that is not committed: pass it to reads to query the pending block's post-state. */
export type PendingState = { readonly block: Block; readonly overlay: OverlayDB };

export type BuildResult = {
  block: Block;
  receipts: TxReceipt[];
  skipped: SkippedTx[];
  timings: BlockTimings;
  pending: PendingState;
};

export type ExecuteResult = {
  /** True when the block is exactly what re-execution produced. */
  valid: boolean;
  block: Block;
  receipts: TxReceipt[];
  differences: HeaderDifference[];
  invalidTx?: { index: number; hash: Hex; message: string };
  timings: BlockTimings;
  pending: PendingState;
};

export type CommitExtra = {
  /** Opaque bytes stored beside the block (the BFT commit certificate). */
  commitCertificate?: Uint8Array;
  /** Move the safe / finalized heads to this block in the same atomic batch. */
  safe?: boolean;
  finalized?: boolean;
};

export type BlockRef = "latest" | "safe" | "finalized" | "earliest" | bigint | number | Hex | Uint8Array;
/** Where a read runs: a committed block or a pending (built or executed, uncommitted) state. */
export type StateRef = BlockRef | PendingState;

export type LogFilter = {
  fromBlock?: BlockRef;
  toBlock?: BlockRef;
  blockHash?: Hex | Uint8Array;
  address?: Hex | Hex[];
  /** Per position: null = any, one topic, or any of several. */
  topics?: (Hex | Hex[] | null)[];
};

export type TxLookup = {
  tx: TypedTransaction;
  blockHash: Hex;
  blockNumber: bigint;
  index: number;
  block: Block;
};

export type AccountInfo = { nonce: bigint; balance: bigint; codeHash: Hex; storageRoot: Hex };

const isPending = (r: StateRef | undefined): r is PendingState =>
  typeof r === "object" && r !== null && !(r instanceof Uint8Array) && "overlay" in r;

type PendingEntry = { result: ProcessResult; parentHash: Hex };

/** The EVM chain: execution plus the persistent store. Create with `createChain`. */
function isTxList(
  txs: readonly (TypedTransaction | Uint8Array)[] | BuildTxSource,
): txs is readonly (TypedTransaction | Uint8Array)[] {
  return Array.isArray(txs);
}

export class Chain {
  readonly common: Common;
  readonly events: EventBus<ChainEvents>;
  readonly genesisHash: Uint8Array;
  readonly chainId: bigint;
  /** dseq L2 rules (type-3 rejected) apply to blocks this chain builds and executes. */
  readonly l2Policy: boolean;
  private readonly db: ChainLevel;
  private readonly store: NodeStore;
  private readonly log: Logger | undefined;
  private readonly syncWrites: boolean;
  /** Consensus cap on `block.serialize()`, bytes. */
  readonly maxBlockBytes: number;
  private readonly heads: Record<HeadName, Block>;
  private readonly pending = new Map<Hex, PendingEntry>();
  private readonly blockCache = new Map<Hex, Block>();
  private writeLock: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly m: {
    build?: ReturnType<Metrics["histogram"]>;
    execute?: ReturnType<Metrics["histogram"]>;
    commit?: ReturnType<Metrics["histogram"]>;
    head?: ReturnType<Metrics["gauge"]>;
    txs?: ReturnType<Metrics["counter"]>;
    skipped?: ReturnType<Metrics["counter"]>;
  };

  constructor(init: {
    common: Common;
    db: ChainLevel;
    store: NodeStore;
    genesisHash: Uint8Array;
    heads: Record<HeadName, Block>;
    l2Policy: boolean;
    logger?: Logger;
    metrics?: Metrics;
    syncWrites?: boolean;
    maxBlockBytes?: number;
  }) {
    this.common = init.common;
    this.db = init.db;
    this.store = init.store;
    this.genesisHash = init.genesisHash;
    this.heads = init.heads;
    this.l2Policy = init.l2Policy;
    this.log = init.logger;
    this.syncWrites = init.syncWrites ?? defaultCreateChainOptions.syncWrites;
    this.maxBlockBytes = init.maxBlockBytes ?? defaultCreateChainOptions.maxBlockBytes;
    this.chainId = init.common.chainId();
    this.events = new EventBus<ChainEvents>({
      name: "l2-exec",
      ...(init.logger ? { logger: init.logger } : {}),
    });
    const mt = init.metrics;
    this.m = mt
      ? {
          build: mt.histogram({ name: "dseq_exec_build_seconds", help: "time to build a block" }),
          execute: mt.histogram({
            name: "dseq_exec_execute_seconds",
            help: "time to re-execute a proposed block",
          }),
          commit: mt.histogram({ name: "dseq_exec_commit_seconds", help: "time to write a committed block" }),
          head: mt.gauge({ name: "dseq_exec_head_number", help: "latest committed block number" }),
          txs: mt.counter({
            name: "dseq_exec_committed_txs_total",
            help: "transactions in committed blocks",
          }),
          skipped: mt.counter<"reason">({
            name: "dseq_exec_skipped_txs_total",
            help: "transactions left out of built blocks",
            labelNames: ["reason"],
          }) as ReturnType<Metrics["counter"]>,
        }
      : {};
    this.m.head?.set(Number(this.heads.latest.header.number));
  }

  // ---- heads -------------------------------------------------------------------------

  /** The latest committed block. */
  head(): Block {
    return this.heads.latest;
  }
  safe(): Block {
    return this.heads.safe;
  }
  finalized(): Block {
    return this.heads.finalized;
  }

  async setSafe(ref: BlockRef): Promise<void> {
    await this.moveHead("safe", ref);
  }
  async setFinalized(ref: BlockRef): Promise<void> {
    await this.moveHead("finalized", ref);
  }

  private async moveHead(name: HeadName, ref: BlockRef): Promise<void> {
    const block = await this.requireBlock(ref);
    if (block.header.number > this.heads.latest.header.number) {
      throw new L2ExecError(L2ExecErrorCode.UnknownBlock, `${name} head beyond the latest head`);
    }
    await this.serial(async () => {
      await this.db.batch([{ type: "put", key: headKey(name), value: block.hash() }], {
        sync: this.syncWrites,
      });
      this.heads[name] = block;
    });
    this.events.emit("chain.head", { name, number: block.header.number, hash: bytesToHex(block.hash()) });
  }

  // ---- execution ---------------------------------------------------------------------

  private env(): ExecEnv {
    return {
      common: this.common,
      store: this.store,
      l2Policy: this.l2Policy,
      blockHash: async (n) => {
        const v = await this.db.get(canonicalKey(n));
        return v;
      },
    };
  }

  private readonly commons = new Map<string, Common>();

  /** One Common per hardfork, made once: copying and re-parametrising a Common is costly. */
  private blockCommon(number: bigint, timestamp: bigint): Common {
    const hf = this.common.getHardforkBy({ blockNumber: number, timestamp });
    let c = this.commons.get(hf);
    if (c === undefined) {
      c = this.common.copy();
      c.setHardfork(hf);
      this.commons.set(hf, c);
    }
    return c;
  }

  /** Decodes a serialized transaction with this chain's rules and crypto. */
  decodeTx(bytes: Uint8Array): TypedTransaction {
    return createTxFromRLP(bytes, {
      common: this.blockCommon(this.heads.latest.header.number + 1n, this.heads.latest.header.timestamp),
    });
  }

  /** Decodes a block RLP with this chain's rules and crypto. */
  decodeBlock(rlp: Uint8Array): Block {
    return createBlockFromRLP(rlp, { common: this.common, setHardfork: true });
  }

  private normalizeTxs(txs: readonly (TypedTransaction | Uint8Array)[], common: Common): TypedTransaction[] {
    return txs.map((t) => {
      if (t instanceof Uint8Array) return createTxFromRLP(t, { common });
      // Re-decode transactions made with another Common so they use this chain's crypto.
      if (t.common.customCrypto.ecrecover === common.customCrypto.ecrecover) return t;
      return createTxFromRLP(t.serialize(), { common });
    });
  }

  /**
   * Builds and seals a block on `parent`: runs `txs` in order until the gas limit, skips
   * invalid ones with a typed reason, credits `l1Entries`. Nothing is written; pass the
   * block to `commit` (the result is remembered for that).
   */
  async buildBlock(opts: BuildBlockOptions): Promise<BuildResult> {
    this.checkOpen();
    const parent = opts.parent ?? this.heads.latest;
    const number = parent.header.number + 1n;
    const common = this.blockCommon(number, opts.timestamp);
    const given = opts.txs;
    const txs: TypedTransaction[] | TxSource = isTxList(given)
      ? this.normalizeTxs(given, common)
      : {
          next: async (gasLeft, bytesLeft) => {
            const t = await given.next(gasLeft, bytesLeft);
            return t === undefined ? undefined : (this.normalizeTxs([t], common)[0] as TypedTransaction);
          },
        };
    const withdrawals: WithdrawalData[] | undefined = common.isActivatedEIP(4895)
      ? l1EntriesToWithdrawals(opts.l1Entries ?? [])
      : undefined;
    if (withdrawals === undefined && (opts.l1Entries?.length ?? 0) > 0) {
      throw new L2ExecError(L2ExecErrorCode.InvalidConfig, "l1Entries need withdrawals (Shanghai or later)");
    }
    const ph = parent.header;
    const header: Record<string, unknown> = {
      parentHash: parent.hash(),
      number,
      timestamp: opts.timestamp,
      coinbase: opts.coinbase,
      gasLimit: ph.gasLimit,
      extraData: opts.extraData ?? new Uint8Array(0),
      difficulty: 0n,
    };
    if (common.isActivatedEIP(1559))
      header.baseFeePerGas = ph.baseFeePerGas === undefined ? 1_000_000_000n : ph.calcNextBaseFee();
    if (common.isActivatedEIP(4844)) {
      header.excessBlobGas = ph.excessBlobGas === undefined ? 0n : ph.calcNextExcessBlobGas(common);
      header.blobGasUsed = 0n;
    }
    if (common.isActivatedEIP(4788)) header.parentBeaconBlockRoot = new Uint8Array(32);
    const draft = createBlock({ header, ...(withdrawals ? { withdrawals } : {}) }, { common });
    const maxBlockBytes = Math.min(opts.maxBlockBytes ?? this.maxBlockBytes, this.maxBlockBytes);
    if (blockOverheadBytes(draft) > maxBlockBytes) {
      throw new L2ExecError(
        L2ExecErrorCode.InvalidConfig,
        "header and l1Entries alone exceed maxBlockBytes",
        {
          details: { maxBlockBytes, overhead: blockOverheadBytes(draft) },
        },
      );
    }
    const stop = this.m.build?.startTimer();
    const res = await processBlock(this.env(), ph, draft, txs, { kind: "build", maxBlockBytes });
    stop?.();
    for (const s of res.skipped) this.m.skipped?.inc({ reason: s.reason } as never);
    const hash = bytesToHex(res.block.hash());
    this.remember(hash, res, bytesToHex(parent.hash()));
    this.log?.debug("block built", {
      number,
      txs: res.block.transactions.length,
      skipped: res.skipped.length,
      ms: Math.round(res.timings.totalMs),
    });
    return {
      block: res.block,
      receipts: res.receipts,
      skipped: res.skipped,
      timings: res.timings,
      pending: { block: res.block, overlay: res.overlay },
    };
  }

  /**
   * Re-executes a proposed block on its parent's state and reports every difference (header
   * fields, the first invalid transaction). The canonical state is untouched until `commit`.
   */
  async executeBlock(input: Block | Uint8Array): Promise<ExecuteResult> {
    this.checkOpen();
    const block = input instanceof Uint8Array ? this.decodeBlock(input) : input;
    const h = block.header;
    const parent = await this.getBlockByHash(h.parentHash);
    const stop = this.m.execute?.startTimer();
    if (parent === undefined) {
      throw new L2ExecError(L2ExecErrorCode.UnknownBlock, "parent block is not committed", {
        details: { parentHash: bytesToHex(h.parentHash), number: h.number },
      });
    }
    const ph = parent.header;
    const differences: HeaderDifference[] = [];
    const expect = (field: string, expected: bigint | undefined, actual: bigint | undefined) => {
      if (expected !== actual)
        differences.push({ field, expected: String(expected), actual: String(actual) });
    };
    expect("number", ph.number + 1n, h.number);
    if (h.timestamp <= ph.timestamp)
      differences.push({ field: "timestamp", expected: `> ${ph.timestamp}`, actual: String(h.timestamp) });
    if (ph.baseFeePerGas !== undefined && h.baseFeePerGas !== undefined)
      expect("baseFeePerGas", ph.calcNextBaseFee(), h.baseFeePerGas);
    if (this.l2Policy) expect("gasLimit", ph.gasLimit, h.gasLimit);
    if (ph.excessBlobGas !== undefined && h.excessBlobGas !== undefined) {
      expect("excessBlobGas", ph.calcNextExcessBlobGas(block.common), h.excessBlobGas);
    }
    // Checked before execution: an oversized proposal costs a serialization, not a block's run.
    const size = input instanceof Uint8Array ? input.length : block.serialize().length;
    if (size > this.maxBlockBytes) {
      stop?.();
      differences.push({ field: "blockBytes", expected: `<= ${this.maxBlockBytes}`, actual: String(size) });
      const zero = { recoverMs: 0, executeMs: 0, stateRootMs: 0, triesMs: 0 };
      return {
        valid: false,
        block,
        receipts: [],
        differences,
        timings: { ...zero, totalMs: 0, cpu: zero },
        pending: { block, overlay: new OverlayDB(this.store) },
      };
    }
    let txs = block.transactions as TypedTransaction[];
    if (this.l2Policy) {
      const blobIndex = txs.findIndex((t) => t.type === 3);
      if (blobIndex >= 0) txs = txs.slice(0, blobIndex);
    }
    const res = await processBlock(this.env(), ph, block, txs, { kind: "execute", expected: block });
    stop?.();
    let invalidTx = res.invalidTx;
    if (invalidTx === undefined && txs.length < block.transactions.length) {
      const t = block.transactions[txs.length] as TypedTransaction;
      invalidTx = {
        index: txs.length,
        hash: bytesToHex(t.hash()),
        message: "blob transactions (type 3) are not accepted on this L2",
      };
    }
    if (invalidTx === undefined) differences.push(...compareHeader(block, res.computed));
    const valid = invalidTx === undefined && differences.length === 0;
    if (valid) this.remember(bytesToHex(block.hash()), res, bytesToHex(parent.hash()));
    return {
      valid,
      block,
      receipts: res.receipts,
      differences,
      ...(invalidTx !== undefined ? { invalidTx } : {}),
      timings: res.timings,
      pending: { block, overlay: res.overlay },
    };
  }

  private remember(hash: Hex, result: ProcessResult, parentHash: Hex): void {
    this.pending.set(hash, { result, parentHash });
    // Keep a handful: proposals of the current height and its rounds.
    if (this.pending.size > 16) {
      const first = this.pending.keys().next().value as Hex;
      this.pending.delete(first);
    }
  }

  /**
   * Makes `block` the latest head in one atomic LevelDB batch: state trie nodes, block,
   * receipts, tx lookups, bloom, `extra.commitCertificate`, heads. The block must be a child
   * of the latest head and valid (it is executed here if it was not built or executed before).
   * `receipts` is accepted for symmetry with build/execute; the stored ones are this chain's.
   * With `syncWrites` (the default) the batch is fsynced: when this resolves the block is on
   * disk and survives a power cut.
   */
  async commit(block: Block, _receipts?: readonly TxReceipt[], extra: CommitExtra = {}): Promise<void> {
    this.checkOpen();
    await this.serial(async () => {
      const hash = bytesToHex(block.hash());
      const latest = this.heads.latest;
      if (
        !equalsBytes(block.header.parentHash, latest.hash()) ||
        block.header.number !== latest.header.number + 1n
      ) {
        throw new L2ExecError(L2ExecErrorCode.NotChild, "block is not a child of the latest head", {
          details: { number: block.header.number, head: latest.header.number },
        });
      }
      let entry = this.pending.get(hash);
      if (entry === undefined) {
        const ex = await this.executeBlock(block);
        if (!ex.valid) {
          throw new L2ExecError(L2ExecErrorCode.InvalidBlock, "block does not match its re-execution", {
            details: { differences: ex.differences, invalidTx: ex.invalidTx },
          });
        }
        entry = this.pending.get(hash) as PendingEntry;
      }
      const stop = this.m.commit?.startTimer();
      const res = entry.result;
      const writes = res.overlay.collectWrites();
      const number = block.header.number;
      const bhash = block.hash();
      const ops: BatchOp[] = this.store.toBatch(writes);
      const blockRlp =
        res.encodedTxs.length === block.transactions.length
          ? encodeBlock(block, res.encodedTxs)
          : block.serialize();
      ops.push({ type: "put", key: blockKey(bhash), value: blockRlp });
      ops.push({ type: "put", key: canonicalKey(number), value: bhash });
      ops.push({ type: "put", key: receiptsKey(bhash), value: RLP.encode(res.encodedReceipts) });
      const sameTxs = res.encodedTxs.length === block.transactions.length;
      block.transactions.forEach((tx, i) => {
        // a tx hash is keccak of its serialization, which execution already produced
        const txHash = sameTxs ? keccak256(res.encodedTxs[i] as Uint8Array) : tx.hash();
        ops.push({ type: "put", key: txLookupKey(txHash), value: encodeTxLookup(bhash, i) });
      });
      ops.push({ type: "put", key: bloomKey(number), value: block.header.logsBloom });
      if (extra.commitCertificate !== undefined) {
        ops.push({ type: "put", key: certificateKey(number), value: extra.commitCertificate });
      }
      ops.push({ type: "put", key: headKey("latest"), value: bhash });
      if (extra.safe === true) ops.push({ type: "put", key: headKey("safe"), value: bhash });
      if (extra.finalized === true) ops.push({ type: "put", key: headKey("finalized"), value: bhash });
      // Everything the commit makes durable is in this one batch: execution wrote its state
      // nodes and code to the in-memory overlay only (OverlayDB; FastStateManager and
      // trieUpdate write there, never to LevelDB), so no node of this block reached the disk
      // before. Were any written earlier unsynced, this synced batch would still cover them:
      // LevelDB appends every write to one ordered log, and fsyncing it at this record makes
      // all earlier records durable too. The head pointer is in the batch, so a head on disk
      // always has its state.
      await this.db.batch(ops as never, { sync: this.syncWrites });
      this.store.persisted(writes);
      this.heads.latest = block;
      if (extra.safe === true) this.heads.safe = block;
      if (extra.finalized === true) this.heads.finalized = block;
      this.cacheBlock(hash, block);
      for (const [k, e] of this.pending) {
        if (e.result.block.header.number <= number) this.pending.delete(k);
      }
      stop?.();
      this.m.head?.set(Number(number));
      this.m.txs?.inc(undefined, block.transactions.length);
      this.events.emit("chain.committed", {
        number,
        hash,
        parentHash: bytesToHex(block.header.parentHash),
        stateRoot: bytesToHex(block.header.stateRoot),
        txCount: block.transactions.length,
        gasUsed: block.header.gasUsed,
        timestamp: block.header.timestamp,
      });
    });
  }

  /**
   * Imports concatenated RLP blocks (`chain.rlp`): each is executed, checked and committed.
   * Blocks already in the store are skipped. Returns the number imported.
   */
  async importBlocks(rlp: Uint8Array, opts: { final?: boolean } = {}): Promise<number> {
    let rest = rlp;
    let imported = 0;
    while (rest.length > 0) {
      const { data, remainder } = RLP.decode(rest, true) as unknown as {
        data: Uint8Array[][];
        remainder: Uint8Array;
      };
      rest = remainder;
      const block = createBlockFromBytesArray(data as never, { common: this.common, setHardfork: true });
      if (block.header.number <= this.heads.latest.header.number) continue;
      const ex = await this.executeBlock(block);
      if (!ex.valid) {
        throw new L2ExecError(
          L2ExecErrorCode.InvalidBlock,
          `block ${block.header.number} does not match its re-execution`,
          {
            details: { differences: ex.differences, invalidTx: ex.invalidTx },
          },
        );
      }
      await this.commit(block, ex.receipts, opts.final === true ? { safe: true, finalized: true } : {});
      imported++;
    }
    return imported;
  }

  // ---- block reads --------------------------------------------------------------------

  private cacheBlock(hash: Hex, block: Block): void {
    if (this.blockCache.size > 256) this.blockCache.delete(this.blockCache.keys().next().value as Hex);
    this.blockCache.set(hash, block);
  }

  async getBlockByHash(hash: Uint8Array | Hex): Promise<Block | undefined> {
    const h = typeof hash === "string" ? hexToBytes(hash) : hash;
    const hex = bytesToHex(h);
    const cached = this.blockCache.get(hex);
    if (cached !== undefined) return cached;
    const raw = await this.db.get(blockKey(h));
    if (raw === undefined) return undefined;
    const block = this.decodeBlock(raw);
    this.cacheBlock(hex, block);
    return block;
  }

  async getBlockByNumber(n: bigint | number): Promise<Block | undefined> {
    const hash = await this.db.get(canonicalKey(BigInt(n)));
    return hash === undefined ? undefined : this.getBlockByHash(hash);
  }

  /** A committed block by tag, number or hash (undefined when unknown). */
  async getBlock(ref: BlockRef): Promise<Block | undefined> {
    if (ref === "latest") return this.heads.latest;
    if (ref === "safe") return this.heads.safe;
    if (ref === "finalized") return this.heads.finalized;
    if (ref === "earliest") return this.getBlockByNumber(0n);
    if (typeof ref === "bigint" || typeof ref === "number") return this.getBlockByNumber(ref);
    if (ref instanceof Uint8Array || ref.length === 66) return this.getBlockByHash(ref);
    return this.getBlockByNumber(BigInt(ref));
  }

  private async requireBlock(ref: BlockRef): Promise<Block> {
    const b = await this.getBlock(ref);
    if (b === undefined)
      throw new L2ExecError(L2ExecErrorCode.UnknownBlock, "unknown block", { details: { ref: String(ref) } });
    return b;
  }

  /** Consensus-encoded receipts of a committed block (debug_getRawReceipts). */
  async getRawReceipts(blockHash: Uint8Array | Hex): Promise<Uint8Array[] | undefined> {
    const h = typeof blockHash === "string" ? hexToBytes(blockHash) : blockHash;
    const raw = await this.db.get(receiptsKey(h));
    return raw === undefined ? undefined : (RLP.decode(raw) as Uint8Array[]);
  }

  /** Receipts of a committed block with every derived field. */
  async getReceipts(ref: BlockRef): Promise<ReceiptInfo[] | undefined> {
    const block = await this.getBlock(ref);
    if (block === undefined) return undefined;
    const raw = await this.getRawReceipts(block.hash());
    return raw === undefined ? undefined : enrichReceipts(block, raw);
  }

  async getTransaction(hash: Uint8Array | Hex): Promise<TxLookup | undefined> {
    const h = typeof hash === "string" ? hexToBytes(hash) : hash;
    const v = await this.db.get(txLookupKey(h));
    if (v === undefined) return undefined;
    const { blockHash, index } = decodeTxLookup(v);
    const block = await this.getBlockByHash(blockHash);
    if (block === undefined) return undefined;
    return {
      tx: block.transactions[index] as TypedTransaction,
      blockHash: bytesToHex(blockHash),
      blockNumber: block.header.number,
      index,
      block,
    };
  }

  async getTransactionReceipt(hash: Uint8Array | Hex): Promise<ReceiptInfo | undefined> {
    const t = await this.getTransaction(hash);
    if (t === undefined) return undefined;
    const raw = await this.getRawReceipts(t.block.hash());
    if (raw === undefined) return undefined;
    return enrichReceipts(t.block, raw)[t.index];
  }

  /** Opaque bytes stored with the block at `height` (the commit certificate). */
  async getCommitCertificate(height: bigint | number): Promise<Uint8Array | undefined> {
    const v = await this.db.get(certificateKey(BigInt(height)));
    return v === undefined ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }

  async getRawBlock(ref: BlockRef): Promise<Uint8Array | undefined> {
    return (await this.getBlock(ref))?.serialize();
  }
  async getRawHeader(ref: BlockRef): Promise<Uint8Array | undefined> {
    return (await this.getBlock(ref))?.header.serialize();
  }
  async getRawTransaction(hash: Uint8Array | Hex): Promise<Uint8Array | undefined> {
    return (await this.getTransaction(hash))?.tx.serialize();
  }

  /**
   * Logs of committed blocks matching the filter. Each block's bloom is checked first (kept
   * apart from the block, so skipping costs one small read); receipts are read only on a hit.
   */
  async getLogs(filter: LogFilter, opts: { maxBlocks?: number } = {}): Promise<LogInfo[]> {
    const addresses =
      filter.address === undefined
        ? []
        : (Array.isArray(filter.address) ? filter.address : [filter.address]).map((a) => a.toLowerCase());
    const topics = (filter.topics ?? []).map((t) =>
      t === null ? null : (Array.isArray(t) ? t : [t]).map((x) => x.toLowerCase()),
    );
    let from: bigint;
    let to: bigint;
    if (filter.blockHash !== undefined) {
      const b = await this.requireBlock(
        typeof filter.blockHash === "string" ? filter.blockHash : filter.blockHash,
      );
      from = b.header.number;
      to = from;
    } else {
      from = (await this.requireBlock(filter.fromBlock ?? "latest")).header.number;
      to = (await this.requireBlock(filter.toBlock ?? "latest")).header.number;
    }
    const max = BigInt(opts.maxBlocks ?? 100_000);
    if (to - from + 1n > max) {
      throw new L2ExecError(L2ExecErrorCode.InvalidConfig, `log range over ${max} blocks`);
    }
    const out: LogInfo[] = [];
    for (let n = from; n <= to; n++) {
      const bits = await this.db.get(bloomKey(n));
      if (bits === undefined) continue;
      const bloom = new Bloom(bits, this.common);
      if (addresses.length > 0 && !addresses.some((a) => bloom.check(hexToBytes(a as Hex)))) continue;
      let skip = false;
      for (const alts of topics) {
        if (alts === null || alts.length === 0) continue;
        if (!alts.some((t) => bloom.check(hexToBytes(t as Hex)))) {
          skip = true;
          break;
        }
      }
      if (skip) continue;
      const receipts = await this.getReceipts(n);
      for (const r of receipts ?? []) {
        for (const log of r.logs) {
          if (addresses.length > 0 && !addresses.includes(log.address.toLowerCase())) continue;
          let ok = true;
          for (let i = 0; i < topics.length; i++) {
            const alts = topics[i];
            if (alts === null || alts === undefined || alts.length === 0) continue;
            const t = log.topics[i];
            if (t === undefined || !alts.includes(t.toLowerCase())) {
              ok = false;
              break;
            }
          }
          if (ok) out.push(log);
        }
      }
    }
    return out;
  }

  // ---- state reads --------------------------------------------------------------------

  private headView: { hash: Hex; view: StateView } | undefined;

  /**
   * A state view at `ref`. Plain reads (`readOnly`) of the latest head share one view and its
   * account cache (the txpool asks for nonces and balances of every incoming tx); calls with
   * overrides get a fresh one.
   */
  private async stateAt(
    ref: StateRef | undefined,
    readOnly = false,
  ): Promise<{ view: StateView; block: Block }> {
    if (isPending(ref)) {
      const view = openStateView(ref.block.common, this.store, ref.block.header.stateRoot, ref.overlay);
      return { view, block: ref.block };
    }
    const block = await this.requireBlock(ref ?? "latest");
    if (readOnly && block === this.heads.latest) {
      const hash = bytesToHex(block.hash());
      if (this.headView?.hash !== hash) {
        this.headView = { hash, view: openStateView(block.common, this.store, block.header.stateRoot) };
      }
      return { view: this.headView.view, block };
    }
    return { view: openStateView(block.common, this.store, block.header.stateRoot), block };
  }

  async getAccount(address: Hex, at?: StateRef): Promise<AccountInfo | undefined> {
    const { view } = await this.stateAt(at, true);
    const a: Account | undefined = await view.stateManager.getAccount(createAddressFromString(address));
    if (a === undefined) return undefined;
    return {
      nonce: a.nonce,
      balance: a.balance,
      codeHash: bytesToHex(a.codeHash),
      storageRoot: bytesToHex(a.storageRoot),
    };
  }
  async getBalance(address: Hex, at?: StateRef): Promise<bigint> {
    return (await this.getAccount(address, at))?.balance ?? 0n;
  }
  async getNonce(address: Hex, at?: StateRef): Promise<bigint> {
    return (await this.getAccount(address, at))?.nonce ?? 0n;
  }
  async getCode(address: Hex, at?: StateRef): Promise<Uint8Array> {
    const { view } = await this.stateAt(at, true);
    return view.stateManager.getCode(createAddressFromString(address));
  }
  /** Storage slot value, left-padded to 32 bytes. */
  async getStorageAt(address: Hex, slot: Hex | bigint, at?: StateRef): Promise<Uint8Array> {
    const { view } = await this.stateAt(at, true);
    const key = setLengthLeft(
      typeof slot === "bigint" ? hexToBytes(`0x${slot.toString(16).padStart(64, "0")}`) : hexToBytes(slot),
      32,
    );
    const addr = createAddressFromString(address);
    if ((await view.stateManager.getAccount(addr)) === undefined) return new Uint8Array(32);
    return setLengthLeft(await view.stateManager.getStorage(addr, key), 32);
  }
  /** EIP-1186 proof (eth_getProof). */
  async getProof(address: Hex, slots: Hex[], at?: StateRef): Promise<Proof> {
    const { view } = await this.stateAt(at);
    return getMerkleStateProof(
      view.stateManager,
      createAddressFromString(address),
      slots.map((s) => setLengthLeft(hexToBytes(s), 32)),
    );
  }

  private callBlockchain(head: BlockHeader): EVMMockBlockchainInterface {
    const bc: EVMMockBlockchainInterface = {
      getBlock: async (n: number) => {
        const h = BigInt(n) === head.number ? head.hash() : await this.db.get(canonicalKey(BigInt(n)));
        if (h === undefined) throw new Error(`unknown block ${n}`);
        return { hash: () => h };
      },
      putBlock: async () => {},
      shallowCopy: () => bc,
    };
    return bc;
  }

  /** eth_call on a committed block or a pending state, with optional state overrides. */
  async call(
    args: CallArgs,
    at?: StateRef,
    overrides?: StateOverrides,
    opts?: CallOptions,
  ): Promise<CallResult> {
    const { view, block } = await this.stateAt(at);
    return call(
      {
        common: block.common,
        stateManager: view.stateManager,
        block,
        blockchain: this.callBlockchain(block.header),
      },
      args,
      overrides,
      opts,
    );
  }

  /** eth_estimateGas (geth's search); throws with `data` = revert data when the call fails. */
  async estimateGas(args: CallArgs, at?: StateRef, overrides?: StateOverrides): Promise<bigint> {
    const { view, block } = await this.stateAt(at);
    return estimateGas(
      {
        common: block.common,
        stateManager: view.stateManager,
        block,
        blockchain: this.callBlockchain(block.header),
      },
      args,
      overrides,
    );
  }

  // ---- lifecycle ----------------------------------------------------------------------

  private checkOpen(): void {
    if (this.closed) throw new L2ExecError(L2ExecErrorCode.Closed, "chain is closed");
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.writeLock.then(fn, fn);
    this.writeLock = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.writeLock;
    this.closed = true;
    this.events.removeAllListeners();
    await this.db.close();
  }
}

type StoredGenesis = { genesis: GethGenesis; l2Policy: boolean };

/**
 * Opens the chain in `dataDir`, creating it from `chainConfig` (a dseq L2) or `genesis` (a
 * geth-format genesis) when the directory is new. Reopening continues from the stored head;
 * a different genesis than the stored one is refused.
 */
export async function createChain(opts: CreateChainOptions): Promise<Chain> {
  const log = opts.logger?.child({ module: "l2-exec" });
  if (log !== undefined) logCryptoBackend(log);
  if (opts.chainConfig !== undefined && opts.genesis !== undefined) {
    throw new L2ExecError(L2ExecErrorCode.InvalidConfig, "pass either chainConfig or genesis, not both");
  }
  const maxBlockBytes = opts.maxBlockBytes ?? defaultCreateChainOptions.maxBlockBytes;
  if (!Number.isSafeInteger(maxBlockBytes) || maxBlockBytes < 1) {
    throw new L2ExecError(L2ExecErrorCode.InvalidConfig, "maxBlockBytes must be a positive integer", {
      details: { maxBlockBytes },
    });
  }
  const db: ChainLevel = new Level<Uint8Array, Uint8Array>(opts.dataDir, {
    keyEncoding: "view",
    valueEncoding: "view",
  });
  await db.open();
  try {
    const store = new NodeStore(db, opts.stateCacheSize ?? defaultCreateChainOptions.stateCacheSize);
    const storedRaw = await db.get(metaKey("genesis"));
    let wanted: StoredGenesis | undefined;
    if (opts.chainConfig !== undefined)
      wanted = { genesis: chainConfigToGethGenesis(opts.chainConfig), l2Policy: true };
    else if (opts.genesis !== undefined) wanted = { genesis: opts.genesis, l2Policy: false };
    let stored: StoredGenesis;
    if (storedRaw === undefined) {
      if (wanted === undefined)
        throw new L2ExecError(
          L2ExecErrorCode.InvalidConfig,
          "new data dir: chainConfig or genesis is required",
        );
      stored = wanted;
    } else {
      stored = JSON.parse(new TextDecoder().decode(storedRaw)) as StoredGenesis;
      if (wanted !== undefined && JSON.stringify(wanted) !== JSON.stringify(stored)) {
        throw new L2ExecError(L2ExecErrorCode.GenesisMismatch, "data dir holds a different chain", {
          details: { dataDir: opts.dataDir },
        });
      }
    }
    const common = createChainCommon(stored.genesis, { nobleCrypto: opts.nobleCrypto === true });
    let genesisHash: Uint8Array;
    if (storedRaw === undefined) {
      const t0 = performance.now();
      const { stateRoot, nodes } = buildGenesisState(stored.genesis.alloc);
      const genesis = buildGenesisBlock(stored.genesis, common, stateRoot);
      genesisHash = genesis.hash();
      const ops: BatchOp[] = store.toBatch(nodes);
      ops.push({ type: "put", key: blockKey(genesisHash), value: genesis.serialize() });
      ops.push({ type: "put", key: canonicalKey(0n), value: genesisHash });
      ops.push({ type: "put", key: receiptsKey(genesisHash), value: RLP.encode([]) });
      ops.push({ type: "put", key: bloomKey(0n), value: genesis.header.logsBloom });
      for (const name of ["latest", "safe", "finalized"] as const)
        ops.push({ type: "put", key: headKey(name), value: genesisHash });
      // The meta key goes last in the same batch: a data dir either has a whole genesis or none.
      ops.push({
        type: "put",
        key: metaKey("genesis"),
        value: new TextEncoder().encode(JSON.stringify(stored)),
      });
      await db.batch(ops as never, { sync: true });
      store.persisted(nodes);
      log?.info("genesis written", {
        hash: bytesToHex(genesisHash),
        stateRoot: bytesToHex(stateRoot),
        accounts: Object.keys(stored.genesis.alloc).length,
        ms: Math.round(performance.now() - t0),
      });
    } else {
      genesisHash = (await db.get(canonicalKey(0n))) as Uint8Array;
    }
    const load = async (name: HeadName): Promise<Block> => {
      const h = await db.get(headKey(name));
      const raw = h === undefined ? undefined : await db.get(blockKey(h));
      if (raw === undefined) throw new L2ExecError(L2ExecErrorCode.StateUnavailable, `missing ${name} head`);
      return createBlockFromRLP(raw, { common, setHardfork: true });
    };
    const heads = {
      latest: await load("latest"),
      safe: await load("safe"),
      finalized: await load("finalized"),
    };
    const chain = new Chain({
      common,
      db,
      store,
      genesisHash,
      heads,
      l2Policy: stored.l2Policy,
      ...(log ? { logger: log } : {}),
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      syncWrites: opts.syncWrites ?? defaultCreateChainOptions.syncWrites,
      maxBlockBytes,
    });
    log?.info("chain opened", {
      chainId: common.chainId().toString(),
      genesis: bytesToHex(genesisHash),
      head: heads.latest.header.number.toString(),
      stateRoot: bytesToHex(heads.latest.header.stateRoot),
    });
    return chain;
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** Alias of `createChain` for callers that open an existing data dir. */
export const openChain = createChain;
