import { EventBus, type Logger, type Metrics } from "@dseq/common";
import type { Block } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import type { Proof } from "@ethereumjs/statemanager";
import { createTxFromRLP, type TypedTransaction } from "@ethereumjs/tx";
import type { TxReceipt } from "@ethereumjs/vm";
import * as blockReads from "./blockReads.ts";
import { type BuildBlockOptions, type BuildResult, buildBlock } from "./buildBlock.ts";
import { type CallSource, callSource } from "./callSource.ts";
import type { CallArgs, CallOptions, CallResult, StateOverrides } from "./calls.ts";
import { defaultCreateChainOptions } from "./chainOptions.ts";
import { blockCommon, type ChainState, createChainMetrics } from "./chainState.ts";
import type { AccountInfo, BlockRef, ChainEvents, StateRef, TxLookup } from "./chainTypes.ts";
import { type CommitExtra, commitBlock } from "./commitBlock.ts";
import { type ExecuteResult, executeBlock } from "./executeBlock.ts";
import { getLogs, type LogFilter } from "./getLogs.ts";
import { importBlocks } from "./importBlocks.ts";
import { moveHead } from "./moveHead.ts";
import type { ChainLevel, NodeStore } from "./nodeStore.ts";
import type { Hex, LogInfo, ReceiptInfo } from "./receipts.ts";
import * as stateReads from "./stateReads.ts";
import type { HeadName } from "./store.ts";

export type { BuildBlockOptions, BuildResult, BuildTxSource } from "./buildBlock.ts";
export { type CreateChainOptions, defaultCreateChainOptions } from "./chainOptions.ts";
export type { AccountInfo, BlockRef, ChainEvents, PendingState, StateRef, TxLookup } from "./chainTypes.ts";
export type { CommitExtra } from "./commitBlock.ts";
export type { ExecuteResult } from "./executeBlock.ts";
export type { LogFilter } from "./getLogs.ts";

/**
 * The EVM chain: execution plus the persistent store. Create with `createChain`.
 *
 * The class holds the chain's state (`ChainState`: db, node store, heads, pending results,
 * write lock); each method hands it to the operation in its own file.
 */
export class Chain {
  readonly common: Common;
  readonly events: EventBus<ChainEvents>;
  readonly genesisHash: Uint8Array;
  readonly chainId: bigint;
  /** dseq L2 rules (type-3 rejected) apply to blocks this chain builds and executes. */
  readonly l2Policy: boolean;
  /** Consensus cap on `block.serialize()`, bytes. */
  readonly maxBlockBytes: number;
  private readonly state: ChainState;
  /** The same LevelDB as `state.db` (tests record its writes through this field). */
  private readonly db: ChainLevel;

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
    this.genesisHash = init.genesisHash;
    this.l2Policy = init.l2Policy;
    this.maxBlockBytes = init.maxBlockBytes ?? defaultCreateChainOptions.maxBlockBytes;
    this.chainId = init.common.chainId();
    this.events = new EventBus<ChainEvents>({
      name: "l2-exec",
      ...(init.logger ? { logger: init.logger } : {}),
    });
    this.state = {
      common: init.common,
      db: init.db,
      store: init.store,
      l2Policy: init.l2Policy,
      maxBlockBytes: this.maxBlockBytes,
      syncWrites: init.syncWrites ?? defaultCreateChainOptions.syncWrites,
      log: init.logger,
      events: this.events,
      metrics: createChainMetrics(init.metrics),
      heads: init.heads,
      pending: new Map(),
      blockCache: new Map(),
      commons: new Map(),
      headView: undefined,
      writeLock: Promise.resolve(),
      closed: false,
    };
    this.state.metrics.head?.set(Number(init.heads.latest.header.number));
  }

  // ---- heads -------------------------------------------------------------------------

  /** The latest committed block. */
  head(): Block {
    return this.state.heads.latest;
  }
  safe(): Block {
    return this.state.heads.safe;
  }
  finalized(): Block {
    return this.state.heads.finalized;
  }
  async setSafe(ref: BlockRef): Promise<void> {
    await moveHead(this.state, "safe", ref);
  }
  async setFinalized(ref: BlockRef): Promise<void> {
    await moveHead(this.state, "finalized", ref);
  }

  // ---- execution (buildBlock.ts, executeBlock.ts, commitBlock.ts, importBlocks.ts) ---------

  /** Decodes a serialized transaction with this chain's rules and crypto. */
  decodeTx(bytes: Uint8Array): TypedTransaction {
    const latest = this.state.heads.latest.header;
    return createTxFromRLP(bytes, { common: blockCommon(this.state, latest.number + 1n, latest.timestamp) });
  }

  /** Decodes a block RLP with this chain's rules and crypto. */
  decodeBlock(rlp: Uint8Array): Block {
    return blockReads.decodeBlock(this.state, rlp);
  }

  /** See `buildBlock` (buildBlock.ts): builds and seals a block; nothing is written. */
  buildBlock(opts: BuildBlockOptions): Promise<BuildResult> {
    return buildBlock(this.state, opts);
  }

  /** See `executeBlock` (executeBlock.ts): re-executes a proposed block, lists differences. */
  executeBlock(input: Block | Uint8Array): Promise<ExecuteResult> {
    return executeBlock(this.state, input);
  }

  /**
   * See `commitBlock` (commitBlock.ts): makes `block` the latest head in one atomic, fsynced
   * batch. `receipts` is accepted for symmetry with build/execute; the stored ones are this
   * chain's.
   */
  commit(block: Block, _receipts?: readonly TxReceipt[], extra: CommitExtra = {}): Promise<void> {
    return commitBlock(this.state, block, extra);
  }

  /** See `importBlocks` (importBlocks.ts): executes and commits each block of a `chain.rlp`. */
  importBlocks(rlp: Uint8Array, opts: { final?: boolean } = {}): Promise<number> {
    return importBlocks(this.state, rlp, opts);
  }

  // ---- block reads (blockReads.ts, getLogs.ts) -----------------------------------------

  getBlockByHash(hash: Uint8Array | Hex): Promise<Block | undefined> {
    return blockReads.getBlockByHash(this.state, hash);
  }
  getBlockByNumber(n: bigint | number): Promise<Block | undefined> {
    return blockReads.getBlockByNumber(this.state, n);
  }
  /** A committed block by tag, number or hash (undefined when unknown). */
  getBlock(ref: BlockRef): Promise<Block | undefined> {
    return blockReads.getBlock(this.state, ref);
  }
  /** Consensus-encoded receipts of a committed block (debug_getRawReceipts). */
  getRawReceipts(blockHash: Uint8Array | Hex): Promise<Uint8Array[] | undefined> {
    return blockReads.getRawReceipts(this.state, blockHash);
  }
  /** Receipts of a committed block with every derived field. */
  getReceipts(ref: BlockRef): Promise<ReceiptInfo[] | undefined> {
    return blockReads.getReceipts(this.state, ref);
  }
  getTransaction(hash: Uint8Array | Hex): Promise<TxLookup | undefined> {
    return blockReads.getTransaction(this.state, hash);
  }
  getTransactionReceipt(hash: Uint8Array | Hex): Promise<ReceiptInfo | undefined> {
    return blockReads.getTransactionReceipt(this.state, hash);
  }
  /** Opaque bytes stored with the block at `height` (the commit certificate). */
  getCommitCertificate(height: bigint | number): Promise<Uint8Array | undefined> {
    return blockReads.getCommitCertificate(this.state, height);
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
  /** Logs of committed blocks matching the filter (bloom first, receipts on a hit). */
  getLogs(filter: LogFilter, opts: { maxBlocks?: number } = {}): Promise<LogInfo[]> {
    return getLogs(this.state, filter, opts);
  }

  // ---- state reads (stateReads.ts) -----------------------------------------------------

  getAccount(address: Hex, at?: StateRef): Promise<AccountInfo | undefined> {
    return stateReads.getAccount(this.state, address, at);
  }
  async getBalance(address: Hex, at?: StateRef): Promise<bigint> {
    return (await this.getAccount(address, at))?.balance ?? 0n;
  }
  async getNonce(address: Hex, at?: StateRef): Promise<bigint> {
    return (await this.getAccount(address, at))?.nonce ?? 0n;
  }
  getCode(address: Hex, at?: StateRef): Promise<Uint8Array> {
    return stateReads.getCode(this.state, address, at);
  }
  /** Storage slot value, left-padded to 32 bytes. */
  getStorageAt(address: Hex, slot: Hex | bigint, at?: StateRef): Promise<Uint8Array> {
    return stateReads.getStorageAt(this.state, address, slot, at);
  }
  /** EIP-1186 proof (eth_getProof). */
  getProof(address: Hex, slots: Hex[], at?: StateRef): Promise<Proof> {
    return stateReads.getProof(this.state, address, slots, at);
  }
  /** eth_call on a committed block or a pending state, with optional state overrides. */
  call(args: CallArgs, at?: StateRef, overrides?: StateOverrides, opts?: CallOptions): Promise<CallResult> {
    return stateReads.callAt(this.state, args, at, overrides, opts);
  }
  /** eth_estimateGas (geth's search); throws with `data` = revert data when the call fails. */
  estimateGas(args: CallArgs, at?: StateRef, overrides?: StateOverrides): Promise<bigint> {
    return stateReads.estimateGasAt(this.state, args, at, overrides);
  }
  /** Node and hash reads for a `CallEngine` in another thread (RPC workers, ADR 0130). */
  callSource(): Promise<CallSource> {
    return callSource(this.state);
  }

  // ---- lifecycle ----------------------------------------------------------------------

  async close(): Promise<void> {
    if (this.state.closed) return;
    await this.state.writeLock;
    this.state.closed = true;
    this.events.removeAllListeners();
    await this.db.close();
  }
}
