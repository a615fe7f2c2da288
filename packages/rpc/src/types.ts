/**
 * What the RPC handlers need from the rest of the node. The rpc package owns these small
 * interfaces; the `node` package (and this package's tests) adapt l2-exec and txpool to them.
 *
 * Data crosses the boundary as plain values: 20/32-byte values and byte strings as lower-case
 * `0x` hex, integers as bigint. The formatters in `format.ts` turn them into execution-apis JSON.
 */
import type { Hex } from "@dseq/common";

export type Address = Hex;

export type AccessListEntry = { address: Address; storageKeys: Hex[] };

export type AuthorizationData = {
  chainId: bigint;
  address: Address;
  nonce: bigint;
  yParity: number;
  r: bigint;
  s: bigint;
};

/** A signed transaction as stored; `type` 0 legacy, 1 access list, 2 dynamic fee, 3 blob, 4 set code. */
export type TransactionData = {
  type: number;
  hash: Hex;
  from: Address;
  nonce: bigint;
  to: Address | null;
  value: bigint;
  gas: bigint;
  input: Hex;
  /** Legacy and access-list transactions. */
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  maxFeePerBlobGas?: bigint;
  /** Absent for pre-EIP-155 legacy transactions. */
  chainId?: bigint;
  accessList?: AccessListEntry[];
  blobVersionedHashes?: Hex[];
  authorizationList?: AuthorizationData[];
  v: bigint;
  r: bigint;
  s: bigint;
};

export type WithdrawalData = { index: bigint; validatorIndex: bigint; address: Address; amount: bigint };

export type BlockHeaderData = {
  hash: Hex;
  parentHash: Hex;
  sha3Uncles: Hex;
  miner: Address;
  stateRoot: Hex;
  transactionsRoot: Hex;
  receiptsRoot: Hex;
  logsBloom: Hex;
  difficulty: bigint;
  number: bigint;
  gasLimit: bigint;
  gasUsed: bigint;
  timestamp: bigint;
  extraData: Hex;
  mixHash: Hex;
  nonce: Hex;
  baseFeePerGas?: bigint;
  withdrawalsRoot?: Hex;
  blobGasUsed?: bigint;
  excessBlobGas?: bigint;
  parentBeaconBlockRoot?: Hex;
  requestsHash?: Hex;
};

export type BlockData = {
  header: BlockHeaderData;
  /** RLP size of the whole block in bytes. */
  size: bigint;
  transactions: TransactionData[];
  uncles: Hex[];
  withdrawals?: WithdrawalData[];
};

export type LogData = { address: Address; topics: Hex[]; data: Hex };

export type ReceiptData = {
  /** Post-Byzantium status; absent when `root` is set. */
  status?: 0 | 1;
  /** Pre-Byzantium intermediate state root. */
  root?: Hex;
  cumulativeGasUsed: bigint;
  gasUsed: bigint;
  logsBloom: Hex;
  logs: LogData[];
  contractAddress: Address | null;
  effectiveGasPrice: bigint;
  blobGasUsed?: bigint;
  blobGasPrice?: bigint;
};

export type AccountData = { nonce: bigint; balance: bigint };

export type StorageProofData = { key: Hex; value: bigint; proof: Hex[] };
export type AccountProofData = {
  address: Address;
  accountProof: Hex[];
  balance: bigint;
  codeHash: Hex;
  nonce: bigint;
  storageHash: Hex;
  storageProof: StorageProofData[];
};

/** A message call as eth_call/eth_estimateGas take it, already validated. */
export type CallRequest = {
  from?: Address;
  to?: Address | null;
  gas?: bigint;
  gasPrice?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  maxFeePerBlobGas?: bigint;
  value?: bigint;
  input?: Hex;
  nonce?: bigint;
  type?: number;
  chainId?: bigint;
  accessList?: AccessListEntry[];
  blobVersionedHashes?: Hex[];
  authorizationList?: AuthorizationData[];
};

export type AccountOverride = {
  nonce?: bigint;
  code?: Hex;
  balance?: bigint;
  /** Replaces the whole storage. */
  state?: Record<Hex, Hex>;
  /** Patches single slots. */
  stateDiff?: Record<Hex, Hex>;
};
export type StateOverrides = Record<Address, AccountOverride>;

/** geth's block overrides: the call's block environment, changed for that call only. */
export type BlockOverridesData = {
  number?: bigint;
  /** Seconds. */
  time?: bigint;
  gasLimit?: bigint;
  feeRecipient?: Address;
  prevRandao?: Hex;
  baseFeePerGas?: bigint;
};

export type CallOptions = {
  overrides?: StateOverrides;
  /**
   * Run in the environment of the block after `block` (number + 1, its timestamp and base
   * fee), on `block`'s state: what a transaction sent now will see (ADR 0131).
   */
  nextBlock?: boolean;
  /** Applied on top of the environment (after `nextBlock`). */
  blockOverrides?: BlockOverridesData;
  /** Record the addresses and slots touched (eth_createAccessList). */
  traceAccessList?: boolean;
  signal?: AbortSignal;
};

/**
 * Result of executing a call. A pre-execution failure (intrinsic gas too low, insufficient
 * funds, fee below base fee) is `invalid`; `failed` is an EVM halt other than revert (out of
 * gas, invalid opcode). `gasUsed` is after refunds, `gasRefund` the refund granted.
 */
export type CallResult =
  | { status: "success"; returnData: Hex; gasUsed: bigint; gasRefund: bigint; accessList?: AccessListEntry[] }
  | {
      status: "reverted";
      returnData: Hex;
      gasUsed: bigint;
      gasRefund: bigint;
      accessList?: AccessListEntry[];
    }
  | { status: "failed"; error: string; gasUsed: bigint; gasRefund: bigint; accessList?: AccessListEntry[] }
  | { status: "invalid"; error: string; intrinsicGasTooLow?: boolean };

export type BlobParams = { target: number; max: number; baseFeeUpdateFraction: bigint };

export type ChainHeads = { latest: bigint; safe: bigint; finalized: bigint };

/**
 * Chain and state reads. Block-scoped state reads take a block number that the caller has
 * already resolved against `heads()`; they return undefined when that state is gone (pruned).
 */
/** How to trace (geth's TraceConfig, decoded; ADR 0132). */
export type TraceRequest = {
  /** Built-in tracer name; absent: the struct logger. */
  tracer?: string;
  tracerConfig?: Record<string, unknown>;
  disableStack?: boolean;
  disableStorage?: boolean;
  enableMemory?: boolean;
  disableMemory?: boolean;
  enableReturnData?: boolean;
  limit?: number;
  /** Wall-clock limit (geth's `timeout`, 5 s by default; the node may cap it). */
  timeoutMs: number;
};

/** One traced transaction of a block, as debug_traceBlock* lists them. */
export type TxTrace = { txHash: Hex; result: unknown };

export interface ChainReader {
  readonly chainId: bigint;
  /**
   * The preconfirmed block (ADR 0176, 0177): what `pending` state reads and the receipt of a
   * preconfirmed, not yet committed transaction answer from. Undefined: `pending` is `latest`.
   */
  readonly preconfirmed?: PreconfirmedReader;
  /**
   * eth_simulateV1 (ADR 0133): blocks of calls on `block`'s post-state, nothing kept. Errors
   * are `RpcError`s with the execution-apis code (-380xx). Undefined: not served.
   */
  simulate?(req: SimulateRequest, block: bigint, signal?: AbortSignal): Promise<SimulatedBlockData[]>;
  /** eth_config (EIP-7910): the fork in force at the head, and the next and last scheduled. */
  forkConfig?(): Promise<ForkConfigs>;
  /**
   * Re-runs committed block `hash` and traces its transactions (only `txIndex`'s when given;
   * the earlier ones run untraced). Undefined: this node serves no traces.
   */
  traceBlock?(hash: Hex, req: TraceRequest, txIndex?: number, signal?: AbortSignal): Promise<TxTrace[]>;
  /** debug_traceCall: `req` on `block`'s post-state, traced (ADR 0132). */
  traceCall?(
    req: CallRequest,
    block: bigint,
    trace: TraceRequest & { overrides?: StateOverrides; blockOverrides?: BlockOverridesData },
    signal?: AbortSignal,
  ): Promise<unknown>;
  heads(): ChainHeads;
  /** Oldest block whose body is served (0 for an archive of the whole chain). */
  earliest(): bigint;
  getBlockByNumber(number: bigint): Promise<BlockData | undefined>;
  getBlockByHash(hash: Hex): Promise<BlockData | undefined>;
  /** Canonical header at `number`, without the body (log scans, newHeads). */
  getHeader(number: bigint): Promise<BlockHeaderData | undefined>;
  getReceipts(blockHash: Hex): Promise<ReceiptData[] | undefined>;
  getTransactionLocation(hash: Hex): Promise<{ blockHash: Hex; index: number } | undefined>;

  getAccount(address: Address, block: bigint): Promise<AccountData>;
  getCode(address: Address, block: bigint): Promise<Hex>;
  getStorageAt(address: Address, slot: Hex, block: bigint): Promise<Hex>;
  getProof(address: Address, slots: Hex[], block: bigint): Promise<AccountProofData>;

  /**
   * Executes a call on top of the state after `block` without committing, the way geth's
   * eth_call does: nonce and EOA checks skipped, base-fee check skipped when no fee is given,
   * `gas` defaulting to the gas cap.
   */
  call(req: CallRequest, block: bigint, opts?: CallOptions): Promise<CallResult>;

  /** Most gas one transaction may use at `block` under the chain's rules (EIP-7825), if limited. */
  txGasCap?(block: bigint): bigint | undefined;
  /** Blob fee parameters in force at `timestamp`; undefined before Cancun or on a chain without blobs. */
  blobParams?(timestamp: bigint): BlobParams | undefined;

  getRawBlock(hash: Hex): Promise<Hex | undefined>;
  getRawHeader(hash: Hex): Promise<Hex | undefined>;
  getRawReceipts(hash: Hex): Promise<Hex[] | undefined>;
  getRawTransaction(hash: Hex): Promise<Hex | undefined>;
}

/** State reads after the preconfirmed prefix of the open height (head + 1). */
export type PreconfirmedStateData = {
  getAccount(address: Address): Promise<AccountData>;
  getCode(address: Address): Promise<Hex>;
  getStorageAt(address: Address, slot: Hex): Promise<Hex>;
};

/** A preconfirmed transaction's receipt and what `formatReceipt` needs besides the block hash. */
export type PreconfirmedReceiptData = {
  receipt: ReceiptData;
  /** Only `type`, `hash`, `from` and `to` are read. */
  tx: Pick<TransactionData, "type" | "hash" | "from" | "to">;
  /** The open height and the proposer's timestamp for it. */
  blockNumber: bigint;
  timestamp: bigint;
  index: number;
  firstLogIndex: number;
};

/**
 * The preconfirmed view (ADR 0176, 0177): the head plus the longest preconfirmed prefix of the
 * next height, executed, not committed. Both answer undefined when nothing is preconfirmed on the
 * head (or the prefix does not hold the transaction).
 */
export interface PreconfirmedReader {
  state(): Promise<PreconfirmedStateData | undefined>;
  receipt(txHash: Hex): Promise<PreconfirmedReceiptData | undefined>;
}

/** One fork's configuration as EIP-7910's eth_config reports it. */
export type ForkConfigData = {
  /** Seconds; 0 for a fork active from genesis. */
  activationTime: number;
  blobSchedule?: BlobParams;
  chainId: bigint;
  /** EIP-2124/6122 fork id (CRC32 of the genesis hash and fork points). */
  forkId: Hex;
  /** EIP-7910 names -> addresses of the precompiles active in the fork. */
  precompiles: Record<string, Address>;
  /** EIP-7910 names -> addresses of the system contracts the fork's rules call. */
  systemContracts: Record<string, Address>;
};
export type ForkConfigs = { current: ForkConfigData; next?: ForkConfigData; last?: ForkConfigData };

/** One `blockStateCalls` entry of eth_simulateV1, decoded. */
export type SimulateBlockInput = {
  blockOverrides?: BlockOverridesData;
  stateOverrides?: Record<Address, AccountOverride & { movePrecompileToAddress?: Address }>;
  calls: CallRequest[];
};
export type SimulateRequest = {
  blockStateCalls: SimulateBlockInput[];
  validation: boolean;
  traceTransfers: boolean;
  /** The RPC gas cap: all calls of the request together. */
  gasCap: bigint;
};
export type SimulatedCallData = {
  returnData: Hex;
  /** `index`: the log's index in its block. */
  logs: (LogData & { index: number })[];
  gasUsed: bigint;
  maxUsedGas: bigint;
  status: 0 | 1;
  error?: { message: string; code: number; data?: Hex };
};
export type SimulatedBlockData = { block: BlockData; calls: SimulatedCallData[] };

/** The pending view the txpool gives the RPC (txpool_*, pending nonce, pending filters). */
export interface TxPoolView {
  status(): { pending: number; queued: number };
  /** Every pending and queued transaction, grouped by sender, keyed by nonce. */
  content(): { pending: Map<Address, TransactionData[]>; queued: Map<Address, TransactionData[]> };
  contentFrom(address: Address): { pending: TransactionData[]; queued: TransactionData[] };
  /** Next nonce for `address` counting its pending (executable) transactions; undefined if none. */
  pendingNonce(address: Address): bigint | undefined | Promise<bigint | undefined>;
  getTransaction(hash: Hex): TransactionData | undefined;
}

/**
 * Hands a raw signed transaction to the node (txpool admission, gossip). Resolves to its hash;
 * rejects with an Error whose message is geth's ("nonce too low", "already known", ...).
 */
export type SubmitRawTransaction = (raw: Uint8Array) => Promise<Hex>;

export type RpcEventMap = {
  /** A block was committed and is now `latest`. Commits never roll back (BFT finality). */
  "chain.head": { number: bigint; hash: Hex };
  /** Transactions were admitted to the pending set. */
  "txpool.pending": { hashes: Hex[] };
};

/** Where subscriptions and filters learn about new blocks and transactions. An EventBus fits. */
export interface RpcEvents {
  on<K extends keyof RpcEventMap>(event: K, listener: (payload: RpcEventMap[K]) => void): () => void;
}

export type SyncStatus = false | { startingBlock: bigint; currentBlock: bigint; highestBlock: bigint };

/** Everything the handlers talk to. */
export type RpcBackend = {
  chain: ChainReader;
  txpool?: TxPoolView;
  submitRawTransaction?: SubmitRawTransaction;
  events?: RpcEvents;
  /** Node-level facts; defaults: not syncing, 0 peers, listening. */
  syncing?: () => SyncStatus;
  peerCount?: () => number;
};
