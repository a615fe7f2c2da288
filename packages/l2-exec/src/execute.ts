import {
  Block,
  type BlockHeader,
  createBlockHeader,
  type HeaderData,
  valuesArrayToHeaderData,
} from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import type { EVMMockBlockchainInterface } from "@ethereumjs/evm";
import { RLP } from "@ethereumjs/rlp";
import { Capability, type TypedTransaction } from "@ethereumjs/tx";
import { bytesToHex, equalsBytes, GWEI_TO_WEI } from "@ethereumjs/util";
import {
  Bloom,
  createVM,
  encodeReceipt,
  type RunTxResult,
  runTx,
  type TxReceipt,
  type VM,
} from "@ethereumjs/vm";
import { blockOverheadBytes, txBytesInBlock } from "./blockBytes.ts";
import type { NodeStore, OverlayDB } from "./nodeStore.ts";
import { accumulateRequests, requestsHash } from "./requests.ts";
import { openStateView } from "./stateView.ts";
import { creditAccount, storeParentBeaconRoot, storeParentBlockHash } from "./systemCalls.ts";
import { orderedTrieRoot, rlpBytes, rlpList } from "./trieRoot.ts";

export const SkipReason = {
  NonceTooLow: "nonce_too_low",
  NonceGap: "nonce_gap",
  InsufficientFunds: "insufficient_funds",
  GasLimit: "gas_limit",
  /** The transaction's bytes would push the block over `maxBlockBytes`. */
  BlockBytes: "block_bytes",
  IntrinsicGas: "intrinsic_gas",
  FeeCapTooLow: "fee_cap_below_base_fee",
  BlobTxNotSupported: "blob_tx_not_supported",
  WrongChainId: "wrong_chain_id",
  InvalidSignature: "invalid_signature",
  ExecutionError: "execution_error",
} as const;
export type SkipReason = (typeof SkipReason)[keyof typeof SkipReason];

export type SkippedTx = { index: number; hash: `0x${string}`; reason: SkipReason; message: string };

export type BlockTimings = {
  recoverMs: number;
  executeMs: number;
  stateRootMs: number;
  triesMs: number;
  totalMs: number;
  /** Process CPU time of the same phases: wall minus CPU is time lost to a busy machine. */
  cpu: { recoverMs: number; executeMs: number; stateRootMs: number; triesMs: number };
};

/** What `processBlock` needs from the chain it runs on. */
export type ExecEnv = {
  common: Common;
  store: NodeStore;
  /** Canonical hash of an ancestor (BLOCKHASH before EIP-2935 storage). */
  blockHash(number: bigint): Promise<Uint8Array | undefined>;
  /** dseq L2 policy: Prague rules, type-3 transactions rejected. */
  l2Policy: boolean;
};

export type ProcessMode =
  | {
      kind: "build";
      /** Cap on `block.serialize()`, bytes. */
      maxBlockBytes: number;
    }
  | { kind: "execute"; expected: Block };

/**
 * Candidates handed to a build one at a time: `next` resolves to the next transaction, or
 * undefined when the block should be sealed. It may wait (for transactions still arriving);
 * `gasLeft` and `bytesLeft` are what the block can still take (a transaction's bytes count as
 * its encoding in the block's transaction list). The build ends when the block is full or the
 * source says so, so a source must run dry: offer each candidate once.
 */
export type TxSource = {
  next(gasLeft: bigint, bytesLeft: number): Promise<TypedTransaction | undefined>;
  /** Told right after a transaction is included, with its receipt (preconfirmations, ADR 0175). */
  included?(tx: IncludedTx): void;
  /** Told when a candidate is skipped. */
  skipped?(s: SkippedTx): void;
};

/** A transaction the build just included: its receipt as the sealed block will have it. */
export type IncludedTx = {
  tx: TypedTransaction;
  /** Index in the block. */
  index: number;
  receipt: TxReceipt;
  /** Gas this transaction used (the receipt's cumulative gas minus the previous one's). */
  gasUsed: bigint;
  /** Index of the transaction's first log in the block. */
  firstLogIndex: number;
  baseFee: bigint | undefined;
};

export type ProcessResult = {
  block: Block;
  receipts: TxReceipt[];
  results: RunTxResult[];
  skipped: SkippedTx[];
  overlay: OverlayDB;
  /** Set in execute mode when a transaction could not be applied. */
  invalidTx?: { index: number; hash: `0x${string}`; message: string };
  /** `tx.serialize()` of the block's transactions, in order. */
  encodedTxs: Uint8Array[];
  /** Consensus encodings of `receipts` (what the receipts trie and the store hold). */
  encodedReceipts: Uint8Array[];
  /** Header fields as execution produced them. */
  computed: HeaderData;
  timings: BlockTimings;
};

const now = () => performance.now();
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function blockchainFor(env: ExecEnv, parent: BlockHeader): EVMMockBlockchainInterface {
  const bc: EVMMockBlockchainInterface = {
    async getBlock(n: number) {
      const num = BigInt(n);
      const hash = num === parent.number ? parent.hash() : await env.blockHash(num);
      if (hash === undefined) throw new Error(`unknown block ${n}`);
      return { hash: () => hash };
    },
    async putBlock() {},
    shallowCopy: () => bc,
  };
  return bc;
}

/** Checks that need no state: the L2 policy, the chain id, the gas left in the block. */
function txBlockCheck(
  tx: TypedTransaction,
  env: ExecEnv,
  header: BlockHeader,
  gasUsed: bigint,
): { reason: SkipReason; message: string } | undefined {
  if (env.l2Policy && tx.type === 3) {
    return {
      reason: SkipReason.BlobTxNotSupported,
      message: "blob transactions (type 3) are not accepted on this L2",
    };
  }
  if (tx.supports(Capability.EIP155ReplayProtection) || tx.type > 0) {
    const chainId = (tx as { chainId?: bigint }).chainId ?? tx.common.chainId();
    if (chainId !== env.common.chainId()) {
      return {
        reason: SkipReason.WrongChainId,
        message: `chain id ${chainId}, expected ${env.common.chainId()}`,
      };
    }
  }
  if (tx.gasLimit > header.gasLimit - gasUsed) {
    return {
      reason: SkipReason.GasLimit,
      message: `gas limit ${tx.gasLimit} exceeds the ${header.gasLimit - gasUsed} left in the block`,
    };
  }
  return undefined;
}

/** Why runTx refused a tx, from the sender's state (undefined: an execution error). */
function txStateCheck(
  tx: TypedTransaction,
  header: BlockHeader,
  nonce: bigint,
  balance: bigint,
): { reason: SkipReason; message: string } | undefined {
  const intrinsic = tx.getIntrinsicGas();
  if (tx.gasLimit < intrinsic) {
    return {
      reason: SkipReason.IntrinsicGas,
      message: `gas limit ${tx.gasLimit} below intrinsic gas ${intrinsic}`,
    };
  }
  const baseFee = header.baseFeePerGas ?? 0n;
  const maxFee = "maxFeePerGas" in tx ? (tx.maxFeePerGas as bigint) : (tx as { gasPrice: bigint }).gasPrice;
  if (maxFee < baseFee) {
    return { reason: SkipReason.FeeCapTooLow, message: `max fee ${maxFee} below base fee ${baseFee}` };
  }
  if (tx.nonce < nonce)
    return { reason: SkipReason.NonceTooLow, message: `nonce ${tx.nonce}, account nonce ${nonce}` };
  if (tx.nonce > nonce)
    return { reason: SkipReason.NonceGap, message: `nonce ${tx.nonce}, account nonce ${nonce}` };
  const cost = tx.gasLimit * maxFee + tx.value;
  if (balance < cost) {
    return {
      reason: SkipReason.InsufficientFunds,
      message: `balance ${balance} below gas * max fee + value = ${cost}`,
    };
  }
  return undefined;
}

/**
 * Runs a block on its parent's state: the one code path behind `buildBlock` (the transaction
 * list is filtered, the header is generated) and `executeBlock` (the proposed block is re-run
 * as is). Transactions go straight to `runTx` inside one block checkpoint, so nothing is
 * flushed per transaction; the state root is taken before the final commit; the transaction,
 * receipt and withdrawal tries are built once at the end over sorted keys.
 */
export async function processBlock(
  env: ExecEnv,
  parent: BlockHeader,
  draft: Block,
  input: TypedTransaction[] | TxSource,
  mode: ProcessMode,
  base?: OverlayDB,
): Promise<ProcessResult> {
  // A source is pulled as the block fills (build only); an array is known up front.
  const source = Array.isArray(input) ? undefined : input;
  const txs: TypedTransaction[] = Array.isArray(input) ? input : [];
  if (source && mode.kind !== "build") throw new Error("a transaction source is for building only");
  const t0 = now();
  const c0 = cpu();
  const common = draft.common;
  const { stateManager, overlay } = openStateView(common, env.store, parent.stateRoot, base);
  const vm: VM = await createVM({ common, stateManager, blockchain: blockchainFor(env, parent) });

  // Recover every sender's public key up front (cached on the tx: a no-op for txs the pool
  // already recovered), so execution never waits on ecrecover. The address is derived later
  // by runTx (getSenderAddress hashes the key again each call, with noble keccak).
  const recovers = (tx: TypedTransaction): boolean => {
    try {
      tx.getSenderPublicKey();
      return true;
    } catch {
      return false;
    }
  };
  const valid: boolean[] = txs.map(recovers);
  const t1 = now();
  const c1 = cpu();

  await vm.evm.journal.checkpoint();
  const header = draft.header;
  if (common.isActivatedEIP(4788)) {
    await storeParentBeaconRoot(vm, header.parentBeaconBlockRoot as Uint8Array, header.timestamp);
  }
  if (common.isActivatedEIP(2935)) await storeParentBlockHash(vm, header.number, header.parentHash);

  const included: TypedTransaction[] = [];
  const receipts: TxReceipt[] = [];
  const results: RunTxResult[] = [];
  const skipped: SkippedTx[] = [];
  const skip = (x: SkippedTx): void => {
    skipped.push(x);
    source?.skipped?.(x);
  };
  const bloom = new Bloom(undefined, common);
  // Each tx is serialized once: for the byte budget, the trie below and the stored block.
  const encodedTxs: Uint8Array[] = [];
  let gasUsed = 0n;
  let receiptGas = 0n;
  let logCount = 0;
  // Bytes the block's transactions may still take (build only): the header, withdrawals and
  // list prefixes are counted up front at their largest, so the sealed block is <= the cap.
  let bytesLeft = mode.kind === "build" ? mode.maxBlockBytes - blockOverheadBytes(draft) : 0;
  let invalidTx: ProcessResult["invalidTx"];
  for (let i = 0; ; i++) {
    let tx: TypedTransaction;
    let encoded: Uint8Array | undefined;
    if (source) {
      const next = await source.next(header.gasLimit - gasUsed, Math.max(0, bytesLeft));
      if (next === undefined) break;
      tx = next;
      txs.push(tx);
      valid.push(recovers(tx));
    } else {
      if (i >= txs.length) break;
      tx = txs[i] as TypedTransaction;
    }
    const sender = valid[i] === true ? tx : undefined;
    if (mode.kind === "build") {
      if (header.gasLimit - gasUsed < 21_000n) {
        for (let j = i; j < txs.length; j++) {
          const t = txs[j] as TypedTransaction;
          skip({
            index: j,
            hash: bytesToHex(t.hash()),
            reason: SkipReason.GasLimit,
            message: "block is full",
          });
        }
        break;
      }
      if (sender === undefined) {
        skip({
          index: i,
          hash: bytesToHex(tx.hash()),
          reason: SkipReason.InvalidSignature,
          message: "sender cannot be recovered",
        });
        continue;
      }
      // Only the checks that need no state run up front; runTx checks nonce, balance,
      // intrinsic gas and fee cap itself, and a refusal is classified afterwards.
      const bad = txBlockCheck(tx, env, header, gasUsed);
      if (bad !== undefined) {
        skip({ index: i, hash: bytesToHex(tx.hash()), ...bad });
        continue;
      }
      encoded = tx.serialize();
      const size = txBytesInBlock(tx.type, encoded);
      if (size > bytesLeft) {
        skip({
          index: i,
          hash: bytesToHex(tx.hash()),
          reason: SkipReason.BlockBytes,
          message: `${size} bytes exceed the ${Math.max(0, bytesLeft)} left in the block`,
        });
        continue;
      }
    } else if (sender === undefined) {
      invalidTx = { index: i, hash: bytesToHex(tx.hash()), message: "sender cannot be recovered" };
      break;
    }
    let res: RunTxResult;
    try {
      res = await runTx(vm, { tx, block: draft, blockGasUsed: receiptGas, skipHardForkValidation: true });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (mode.kind === "build") {
        // runTx reverted its checkpoint: the state is as before, so classify on it.
        const account =
          sender === undefined ? undefined : await stateManager.getAccount(tx.getSenderAddress());
        const why = txStateCheck(tx, header, account?.nonce ?? 0n, account?.balance ?? 0n) ?? {
          reason: SkipReason.ExecutionError,
          message,
        };
        skip({ index: i, hash: bytesToHex(tx.hash()), ...why });
        continue;
      }
      invalidTx = { index: i, hash: bytesToHex(tx.hash()), message };
      break;
    }
    included.push(tx);
    encoded ??= tx.serialize();
    encodedTxs.push(encoded);
    if (mode.kind === "build") bytesLeft -= txBytesInBlock(tx.type, encoded);
    results.push(res);
    receipts.push(res.receipt);
    source?.included?.({
      tx,
      index: included.length - 1,
      receipt: res.receipt,
      gasUsed: res.totalGasSpent,
      firstLogIndex: logCount,
      baseFee: header.baseFeePerGas,
    });
    logCount += res.receipt.logs.length;
    gasUsed += res.blockGasSpent;
    receiptGas += res.totalGasSpent;
    bloom.or(res.bloom);
  }

  if (common.isActivatedEIP(4895)) {
    for (const w of draft.withdrawals ?? []) await creditAccount(vm.evm, w.address, w.amount * GWEI_TO_WEI);
    await vm.evm.journal.cleanup();
  }
  if (common.consensusType() === "pow") {
    const minerReward = common.param("minerReward");
    for (const ommer of draft.uncleHeaders) {
      let r = ((8n - (header.number - ommer.number)) * minerReward) / 8n;
      if (r < 0n) r = 0n;
      await creditAccount(vm.evm, ommer.coinbase, r);
    }
    const uncles = BigInt(draft.uncleHeaders.length);
    await creditAccount(vm.evm, header.coinbase, minerReward + (minerReward / 32n) * uncles);
  }
  let reqHash: Uint8Array | undefined;
  if (common.isActivatedEIP(7685)) reqHash = requestsHash(await accumulateRequests(vm, results));
  const t2 = now();
  const c2 = cpu();

  const stateRoot = await stateManager.getStateRoot();
  await vm.evm.journal.commit();
  const t3 = now();
  const c3 = cpu();

  const transactionsTrie = orderedTrieRoot(encodedTxs);
  const encodedReceipts = receipts.map((r, i) => encodeReceipt(r, (included[i] as TypedTransaction).type));
  const receiptTrie = orderedTrieRoot(encodedReceipts);
  const t4 = now();
  const c4 = cpu();

  let blobGasUsed: bigint | undefined;
  if (common.isActivatedEIP(4844)) {
    blobGasUsed = 0n;
    for (const tx of included) {
      if (tx.type === 3)
        blobGasUsed +=
          BigInt((tx as { blobVersionedHashes: unknown[] }).blobVersionedHashes.length) *
          common.param("blobGasPerBlob");
    }
  }

  let withdrawalsRoot: Uint8Array | undefined;
  if (draft.withdrawals !== undefined)
    withdrawalsRoot = orderedTrieRoot(draft.withdrawals.map((w) => RLP.encode(w.raw())));

  const fields: HeaderData = {
    ...valuesArrayToHeaderData(header.raw()),
    stateRoot,
    transactionsTrie,
    receiptTrie,
    logsBloom: bloom.bitvector,
    gasUsed,
    ...(blobGasUsed !== undefined ? { blobGasUsed } : {}),
    ...(reqHash !== undefined ? { requestsHash: reqHash } : {}),
    ...(withdrawalsRoot !== undefined ? { withdrawalsRoot } : {}),
  };
  // The Block constructor, not createBlock: createBlock re-creates every transaction.
  const block =
    mode.kind === "build"
      ? new Block(createBlockHeader(fields, { common }), included, [], draft.withdrawals, { common })
      : mode.expected;
  return {
    block,
    receipts,
    encodedTxs,
    encodedReceipts,
    results,
    skipped,
    overlay,
    ...(invalidTx !== undefined ? { invalidTx } : {}),
    computed: fields,
    timings: {
      recoverMs: t1 - t0,
      executeMs: t2 - t1,
      stateRootMs: t3 - t2,
      triesMs: t4 - t3,
      totalMs: now() - t0,
      cpu: { recoverMs: c1 - c0, executeMs: c2 - c1, stateRootMs: c3 - c2, triesMs: c4 - c3 },
    },
  };
}

export type HeaderDifference = { field: string; expected: string; actual: string };

/** Header fields of `block` that differ from what re-execution produced. */
export function compareHeader(block: Block, computed: HeaderData): HeaderDifference[] {
  const h = block.header;
  const diffs: HeaderDifference[] = [];
  const cmp = (field: string, a: Uint8Array | bigint | undefined, b: unknown) => {
    const bb = b as Uint8Array | bigint | undefined;
    if (a === undefined && bb === undefined) return;
    const same =
      typeof a === "bigint" || typeof bb === "bigint"
        ? a === bb
        : a !== undefined && bb !== undefined && equalsBytes(a as Uint8Array, bb as Uint8Array);
    if (!same) {
      const s = (v: Uint8Array | bigint | undefined) =>
        v === undefined ? "none" : typeof v === "bigint" ? v.toString() : bytesToHex(v);
      diffs.push({ field, expected: s(a), actual: s(bb) });
    }
  };
  cmp("stateRoot", h.stateRoot, computed.stateRoot);
  cmp("receiptsRoot", h.receiptTrie, computed.receiptTrie);
  cmp("transactionsRoot", h.transactionsTrie, computed.transactionsTrie);
  cmp("logsBloom", h.logsBloom, computed.logsBloom);
  cmp("gasUsed", h.gasUsed, computed.gasUsed);
  if (h.blobGasUsed !== undefined) cmp("blobGasUsed", h.blobGasUsed, computed.blobGasUsed);
  if (h.requestsHash !== undefined) cmp("requestsHash", h.requestsHash, computed.requestsHash);
  if (h.withdrawalsRoot !== undefined) cmp("withdrawalsRoot", h.withdrawalsRoot, computed.withdrawalsRoot);
  return diffs;
}

/**
 * `block.serialize()` from already-serialized transactions (what `Block.raw()` encodes:
 * header, txs (typed as byte strings, legacy as lists), uncles, withdrawals).
 */
export function encodeBlock(block: Block, encodedTxs: Uint8Array[]): Uint8Array {
  const parts: Uint8Array[] = [
    block.header.serialize(),
    rlpList(
      block.transactions.map((tx, i) =>
        tx.type === 0 ? (encodedTxs[i] as Uint8Array) : rlpBytes(encodedTxs[i] as Uint8Array),
      ),
    ),
    rlpList(block.uncleHeaders.map((u) => u.serialize())),
  ];
  if (block.withdrawals !== undefined) parts.push(RLP.encode(block.withdrawals.map((w) => w.raw())));
  return rlpList(parts);
}
