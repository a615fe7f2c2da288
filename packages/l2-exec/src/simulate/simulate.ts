/**
 * eth_simulateV1's EVM side (ADR 0133): blocks of calls on top of a base block's post-state,
 * each block built the way geth's `internal/ethapi/simulate.go` builds it (headers chained on
 * the base, gaps filled with empty blocks, EIP-2935/4788 system writes, unsigned dynamic-fee
 * transactions, receipts, roots), so hashes and state roots match geth's on the same chain.
 */
import { Block, type BlockHeader, createBlock, createBlockHeader } from "@ethereumjs/block";
import type { Common } from "@ethereumjs/common";
import type { EVMMockBlockchainInterface } from "@ethereumjs/evm";
import { getActivePrecompiles } from "@ethereumjs/evm";
import type { MerkleStateManager } from "@ethereumjs/statemanager";
import { createTx, type TypedTransaction, type TypedTxData } from "@ethereumjs/tx";
import {
  type Address,
  bytesToHex,
  createAddressFromString,
  equalsBytes,
  hexToBytes,
  KECCAK256_NULL,
} from "@ethereumjs/util";
import { createVM, encodeReceipt, type RunTxResult, runTx, type VM } from "@ethereumjs/vm";
import type { BlockOverrides } from "../callEnv.ts";
import { applyOverrides, type CallArgs, type StateOverrides } from "../calls.ts";
import type { Hex } from "../receipts.ts";
import { storeParentBeaconRoot, storeParentBlockHash } from "../systemCalls.ts";
import { gethError } from "../trace/evmHooks.ts";
import { EMPTY_TRIE_ROOT, orderedTrieRoot } from "../trieRoot.ts";
import { SimulateErrorCode as E, SimulateError } from "./simulateErrors.ts";
import { TransferLogger } from "./transferLogs.ts";

/** geth's maxSimulateBlocks. */
export const MAX_SIMULATE_BLOCKS = 256;
/** sha256 of no requests (EIP-7685): an L2 block carries no deposit/withdrawal/consolidation requests. */
const EMPTY_REQUESTS_HASH = hexToBytes("0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
const ZERO32 = new Uint8Array(32);
const ZERO = `0x${"00".repeat(20)}` as Hex;

export type SimStateOverride = StateOverrides[string] & { movePrecompileToAddress?: Hex };
export type SimBlockInput = {
  block?: BlockOverrides;
  state?: Record<string, SimStateOverride>;
  calls: CallArgs[];
};

export type SimulateOptions = {
  blocks: SimBlockInput[];
  validation: boolean;
  traceTransfers: boolean;
  /** The RPC gas cap: the gas all calls of the request may use together (geth's gas pool). */
  gasCap: bigint;
  /** Seconds between blocks whose timestamp is not given (dseq: the chain's block time). */
  blockTimeSec: bigint;
};

/** `index`: the log's index in the block (geth's counter, which also counts dropped logs). */
export type SimLog = { address: Hex; topics: Hex[]; data: Hex; index: number };
export type SimCallResult = {
  returnData: Hex;
  logs: SimLog[];
  gasUsed: bigint;
  /** Gas before the refund (geth's `maxUsedGas`). */
  maxUsedGas: bigint;
  status: 0 | 1;
  error?: { message: string; code: number; data?: Hex };
};
export type SimulatedBlock = { block: Block; senders: Hex[]; calls: SimCallResult[] };

export type SimulateContext = {
  base: Block;
  stateManager: MerkleStateManager;
  /** Common of the fork in force at (number, timestamp). */
  commonAt(number: bigint, timestamp: bigint): Common;
  /** Canonical block hash at or below the base. */
  canonicalHash(number: bigint): Promise<Uint8Array | undefined>;
  /** Throws when the job ran out of time (checked between calls). */
  check?: () => void;
};

type Planned = { o: BlockOverrides; state?: Record<string, SimStateOverride>; calls: CallArgs[] };

/** geth's sanitizeChain: numbers and timestamps set, ordered, gaps filled with empty blocks. */
export function planBlocks(base: BlockHeader, opts: SimulateOptions): Planned[] {
  if (opts.blocks.length > MAX_SIMULATE_BLOCKS) throw new SimulateError(E.TooManyBlocks, "too many blocks");
  const out: Planned[] = [];
  let prevNumber = base.number;
  let prevTime = base.timestamp;
  for (const b of opts.blocks) {
    const number = b.block?.number ?? prevNumber + 1n;
    if (number <= prevNumber)
      throw new SimulateError(
        E.BlockNumberOrder,
        `block numbers must be in order: ${number} <= ${prevNumber}`,
      );
    if (number - base.number > BigInt(MAX_SIMULATE_BLOCKS))
      throw new SimulateError(E.TooManyBlocks, "too many blocks");
    for (let n = prevNumber + 1n; n < number; n++) {
      prevTime += opts.blockTimeSec;
      out.push({ o: { number: n, time: prevTime }, calls: [] });
    }
    prevNumber = number;
    const time = b.block?.time ?? prevTime + opts.blockTimeSec;
    if (b.block?.time !== undefined && time <= prevTime)
      throw new SimulateError(E.TimestampOrder, `block timestamps must be in order: ${time} <= ${prevTime}`);
    prevTime = time;
    out.push({ o: { ...b.block, number, time }, ...(b.state ? { state: b.state } : {}), calls: b.calls });
  }
  return out;
}

function unsignedTx(
  common: Common,
  args: CallArgs,
  nonce: bigint,
  gas: bigint,
  london: boolean,
): TypedTransaction {
  const data =
    args.data === undefined ? undefined : typeof args.data === "string" ? hexToBytes(args.data) : args.data;
  // Made with nonce and gas 0, then set: a simulated call may use more gas than the EIP-7825
  // cap (geth runs it as eth_call does) and the highest nonce (EIP-2681 is runTx's concern).
  const base = {
    nonce: 0n,
    gasLimit: 0n,
    value: args.value ?? 0n,
    ...(args.to ? { to: args.to } : {}),
    ...(data !== undefined ? { data } : {}),
    v: 0n,
    r: 0n,
    s: 0n,
  };
  let tx: TypedTxData;
  if (args.gasPrice !== undefined || !london) tx = { ...base, type: 0, gasPrice: args.gasPrice ?? 0n };
  else {
    const maxFeePerGas = args.maxFeePerGas ?? 0n;
    const maxPriorityFeePerGas = args.maxPriorityFeePerGas ?? 0n;
    if (maxFeePerGas < maxPriorityFeePerGas)
      throw new SimulateError(
        E.InvalidParams,
        `maxFeePerGas (${maxFeePerGas}) < maxPriorityFeePerGas (${maxPriorityFeePerGas})`,
      );
    const dyn = {
      ...base,
      chainId: common.chainId(),
      maxFeePerGas,
      maxPriorityFeePerGas,
      accessList: args.accessList ?? [],
    };
    tx =
      args.authorizationList === undefined
        ? ({ ...dyn, type: 2 } as TypedTxData)
        : ({
            ...dyn,
            type: 4,
            authorizationList: args.authorizationList.map((a) => ({
              chainId: `0x${a.chainId.toString(16)}`,
              address: a.address,
              nonce: `0x${a.nonce.toString(16)}`,
              yParity: `0x${a.yParity.toString(16)}`,
              r: `0x${a.r.toString(16)}`,
              s: `0x${a.s.toString(16)}`,
            })),
          } as TypedTxData);
  }
  const t = createTx(tx, { common, freeze: false });
  Object.assign(t, { nonce, gasLimit: gas });
  const from = createAddressFromString(args.from ?? ZERO);
  (t as { getSenderAddress: () => Address }).getSenderAddress = () => from;
  return t;
}

/** geth's txValidationError: the pre-execution failure of a call as its JSON-RPC code. */
function validationError(message: string, nonce: bigint, stateNonce: bigint): SimulateError {
  const m = message.replace(/ -> .*$/s, "");
  if (/INTRINSIC_GAS_TOO_LOW|intrinsic gas/i.test(m)) return new SimulateError(E.IntrinsicGas, m);
  if (/less than the block's baseFeePerGas/.test(m)) return new SimulateError(E.FeeCapTooLow, m);
  if (/enough funds/.test(m)) return new SimulateError(E.InsufficientFunds, m);
  if (/correct nonce/.test(m))
    return new SimulateError(nonce < stateNonce ? E.NonceTooLow : E.NonceTooHigh, m);
  return new SimulateError(E.Internal, m);
}

/**
 * geth skips the EIP-3607 sender check in simulation (a contract may "send" a call);
 * @ethereumjs/vm always applies it. The sender's account, read once by runTx for that check,
 * reports an empty code hash to it and its real one afterwards.
 */
function skipEoaCheck(sm: MerkleStateManager, sender: Address): () => void {
  const get = sm.getAccount.bind(sm);
  let armed = true;
  sm.getAccount = async (a) => {
    const acc = await get(a);
    if (!armed || acc === undefined || !a.equals(sender) || equalsBytes(acc.codeHash, KECCAK256_NULL))
      return acc;
    armed = false;
    const real = acc.codeHash;
    let reads = 0;
    Object.defineProperty(acc, "codeHash", {
      configurable: true,
      get: () => (reads++ === 0 ? KECCAK256_NULL : real),
      set: () => {},
    });
    return acc;
  };
  return () => {
    sm.getAccount = get;
  };
}

type CustomPrecompile = { address: string; function?: unknown };

/** geth's StateOverride.Apply for precompiles: `movePrecompileToAddress`, and any overridden precompile stops being one. */
function precompileMoves(
  common: Common,
  state: Record<string, SimStateOverride> | undefined,
): CustomPrecompile[] {
  if (state === undefined) return [];
  const active = getActivePrecompiles(common);
  const moved = new Set<string>();
  const out: CustomPrecompile[] = [];
  const keys = new Set(Object.keys(state).map((a) => a.toLowerCase()));
  for (const [addr, o] of Object.entries(state)) {
    const key = addr.toLowerCase().slice(2);
    if (moved.has(key))
      throw new SimulateError(E.Server, `account ${addr} has already been overridden by a precompile`);
    const fn = active.get(key);
    if (o.movePrecompileToAddress !== undefined) {
      if (fn === undefined) throw new SimulateError(E.Server, `account ${addr} is not a precompile`);
      const to = o.movePrecompileToAddress.toLowerCase();
      if (keys.has(to))
        throw new SimulateError(E.Server, `account ${o.movePrecompileToAddress} is already overridden`);
      out.push({ address: to, function: fn });
      moved.add(to.slice(2));
    }
    if (fn !== undefined && !moved.has(key)) out.push({ address: `0x${key}` });
  }
  return out;
}

/**
 * geth warms the fork's own precompile addresses (vm.ActivePrecompiles(rules)) whatever the
 * overrides did: a removed or overridden one stays warm, a moved-to address is cold.
 * @ethereumjs/vm warms every key of the EVM's precompile map, so that map lists the fork's.
 */
function warmAsGeth(vm: VM, common: Common): void {
  const forkKeys = [...getActivePrecompiles(common).keys()];
  const evm = vm.evm as unknown as { _precompiles: Map<string, unknown> };
  const map = evm._precompiles;
  const warm = new (class extends Map<string, unknown> {
    override entries(): MapIterator<[string, unknown]> {
      return forkKeys.map((k): [string, unknown] => [k, map.get(k)])[Symbol.iterator]();
    }
  })(map);
  evm._precompiles = warm;
}

export async function simulate(ctx: SimulateContext, opts: SimulateOptions): Promise<SimulatedBlock[]> {
  const plan = planBlocks(ctx.base.header, opts);
  const sm = ctx.stateManager;
  const results: SimulatedBlock[] = [];
  const simHashes = new Map<bigint, Uint8Array>();
  let parent = ctx.base.header;
  let gasPool = opts.gasCap;
  const blockchain: EVMMockBlockchainInterface = {
    getBlock: async (n: number) => {
      const number = BigInt(n);
      const hash =
        simHashes.get(number) ??
        (number <= ctx.base.header.number ? await ctx.canonicalHash(number) : undefined);
      if (hash === undefined) throw new Error(`unknown block ${n}`);
      return { hash: () => hash };
    },
    putBlock: async () => {},
    shallowCopy: () => blockchain,
  };
  for (const p of plan) {
    const number = p.o.number as bigint;
    const time = p.o.time as bigint;
    const common = ctx.commonAt(number, time);
    const london = common.isActivatedEIP(1559);
    const baseFee = !london
      ? undefined
      : (p.o.baseFeePerGas ??
        (opts.validation && parent.common.isActivatedEIP(1559) ? parent.calcNextBaseFee() : 0n));
    const cancun = common.isActivatedEIP(4844);
    const headerData = {
      parentHash: parent.hash(),
      coinbase: p.o.feeRecipient ?? parent.coinbase,
      difficulty: parent.difficulty,
      number,
      gasLimit: p.o.gasLimit ?? parent.gasLimit,
      timestamp: time,
      mixHash: p.o.prevRandao === undefined ? ZERO32 : hexToBytes(p.o.prevRandao),
      ...(baseFee === undefined ? {} : { baseFeePerGas: baseFee }),
      ...(common.isActivatedEIP(4895) ? { withdrawalsRoot: EMPTY_TRIE_ROOT } : {}),
      ...(cancun
        ? {
            excessBlobGas: parent.common.isActivatedEIP(4844) ? parent.calcNextExcessBlobGas(common) : 0n,
            blobGasUsed: 0n,
            parentBeaconBlockRoot: ZERO32,
          }
        : {}),
      ...(common.isActivatedEIP(7685) ? { requestsHash: EMPTY_REQUESTS_HASH } : {}),
    };
    const opts0 = { common, skipConsensusFormatValidation: true };
    const envBlock = createBlock({ header: headerData }, opts0);
    // EVM with this block's precompile set (moves last for their block only, as geth's).
    const customPrecompiles = precompileMoves(common, p.state);
    if (p.state !== undefined) await applyOverrides(sm, stateFields(p.state));
    const vm: VM = await createVM({
      common,
      stateManager: sm,
      blockchain,
      ...(customPrecompiles.length > 0 ? { evmOpts: { customPrecompiles: customPrecompiles as never } } : {}),
    });
    if (customPrecompiles.length > 0) warmAsGeth(vm, common);
    if (common.isActivatedEIP(2935)) await storeParentBlockHash(vm, number, parent.hash());
    if (common.isActivatedEIP(4788)) await storeParentBeaconRoot(vm, ZERO32, time);

    const txs: TypedTransaction[] = [];
    const senders: Hex[] = [];
    const calls: SimCallResult[] = [];
    const receipts: Uint8Array[] = [];
    const bloom = new Uint8Array(256);
    let gasUsed = 0n;
    let logIndex = 0;
    for (const args of p.calls) {
      ctx.check?.();
      const from = createAddressFromString(args.from ?? ZERO);
      const stateNonce = (await sm.getAccount(from))?.nonce ?? 0n;
      const nonce = args.nonce ?? stateNonce;
      const remaining = headerData.gasLimit - gasUsed;
      let gas = args.gas ?? remaining;
      if (gas > gasPool) gas = gasPool;
      if (gasUsed + gas > headerData.gasLimit)
        throw new SimulateError(
          E.BlockGasLimit,
          `block gas limit reached: ${gasUsed} >= ${headerData.gasLimit}`,
        );
      if (opts.validation) checkNonce(from, nonce, stateNonce, gas);
      const tx = unsignedTx(common, args, nonce, gas, london);
      // geth's NoBaseFee (validation off): a call without fees runs as if the base fee were 0.
      const free =
        !opts.validation &&
        (tx.type === 0
          ? (tx as { gasPrice: bigint }).gasPrice === 0n
          : (tx as { maxFeePerGas: bigint }).maxFeePerGas === 0n);
      const runBlock = free && baseFee !== undefined && baseFee > 0n ? withZeroBaseFee(envBlock) : envBlock;
      // The frame logger needs step events, which slow every opcode: only with traceTransfers.
      const logger = opts.traceTransfers ? new TransferLogger(vm, runBlock, tx, true, logIndex) : undefined;
      const restore = skipEoaCheck(sm, from);
      let run: RunTxResult;
      try {
        run = await runTx(vm, {
          tx,
          block: runBlock,
          skipNonce: !opts.validation,
          skipBlockGasLimitValidation: true,
          skipHardForkValidation: true,
          blockGasUsed: gasUsed,
        });
      } catch (err) {
        throw validationError(err instanceof Error ? err.message : String(err), nonce, stateNonce);
      } finally {
        restore();
        logger?.detach();
      }
      // geth's uint64 nonce wraps to 0 after 2^64-1 (reachable only without validation).
      const after = await sm.getAccount(from);
      if (after !== undefined && after.nonce > MAX_NONCE) {
        after.nonce &= MAX_NONCE;
        await sm.putAccount(from, after);
      }
      gasUsed += run.totalGasSpent;
      gasPool -= run.totalGasSpent;
      txs.push(tx);
      senders.push(from.toString() as Hex);
      receipts.push(encodeReceipt(run.receipt, tx.type));
      const b = run.bloom.bitvector;
      for (let i = 0; i < 256; i++) bloom[i] = (bloom[i] as number) | (b[i] as number);
      const res = callResult(run, logger, logIndex);
      calls.push(res);
      logIndex = logger?.nextIndex() ?? logIndex + res.logs.length;
    }
    const stateRoot = await sm.getStateRoot();
    const header = createBlockHeader(
      {
        ...headerData,
        stateRoot,
        transactionsTrie: orderedTrieRoot(txs.map((t) => t.serialize())),
        receiptTrie: orderedTrieRoot(receipts),
        logsBloom: bloom,
        gasUsed,
      },
      opts0,
    );
    // The constructor, not createBlock: these transactions are kept as built (createBlock would
    // re-create them and refuse gas above the EIP-7825 cap).
    const block = new Block(header, txs, [], common.isActivatedEIP(4895) ? [] : undefined, opts0);
    simHashes.set(number, block.hash());
    results.push({ block, senders, calls });
    parent = block.header;
  }
  return results;
}

const MAX_NONCE = (1n << 64n) - 1n;

/** The overrides that change state: an entry that only moves a precompile touches no account (geth). */
function stateFields(state: Record<string, SimStateOverride>): StateOverrides {
  const out: StateOverrides = {};
  for (const [addr, { movePrecompileToAddress: _, ...o }] of Object.entries(state))
    if (Object.keys(o).length > 0) out[addr] = o;
  return out;
}

/** geth's preCheck order: the nonce is checked before fees and balance. */
function checkNonce(from: Address, nonce: bigint, stateNonce: bigint, gas: bigint): void {
  const who = `address ${from.toString()}`;
  if (nonce > stateNonce)
    throw new SimulateError(
      E.NonceTooHigh,
      `err: nonce too high: ${who}, tx: ${nonce} state: ${stateNonce} (supplied gas ${gas})`,
    );
  if (nonce < stateNonce)
    throw new SimulateError(
      E.NonceTooLow,
      `err: nonce too low: ${who}, tx: ${nonce} state: ${stateNonce} (supplied gas ${gas})`,
    );
  if (stateNonce === MAX_NONCE)
    throw new SimulateError(
      E.Internal,
      `err: nonce has max value: ${who}, nonce: ${stateNonce} (supplied gas ${gas})`,
    );
}

function withZeroBaseFee(block: Block): Block {
  const copy = Object.create(block) as Block;
  const header = Object.create(block.header) as BlockHeader;
  Object.defineProperty(header, "baseFeePerGas", { value: 0n });
  Object.defineProperty(copy, "header", { value: header });
  return copy;
}

/**
 * Without a logger the logs are the kept ones, numbered in order; geth's counter also counts
 * logs of reverted frames, so there indices after such a frame differ (ADR 0133).
 */
function callResult(run: RunTxResult, logger: TransferLogger | undefined, firstIndex: number): SimCallResult {
  const err = run.execResult.exceptionError;
  const out: SimCallResult = {
    // geth's ExecutionResult.Return(): nothing for a failed call (revert data goes in `error`).
    returnData: err === undefined ? (bytesToHex(run.execResult.returnValue) as Hex) : "0x",
    logs: [],
    gasUsed: run.totalGasSpent,
    maxUsedGas: run.totalGasSpent + run.gasRefund,
    status: err === undefined ? 1 : 0,
  };
  if (err === undefined) {
    out.logs =
      logger?.logs() ??
      (run.execResult.logs ?? []).map(([a, t, d], i) => ({
        address: bytesToHex(a) as Hex,
        topics: t.map((x) => bytesToHex(x) as Hex),
        data: bytesToHex(d) as Hex,
        index: firstIndex + i,
      }));
  } else if (err.error === "revert") {
    const reason = revertReason(run.execResult.returnValue);
    const message = reason === undefined ? "execution reverted" : `execution reverted: ${reason}`;
    out.error = { message, code: 3, data: bytesToHex(run.execResult.returnValue) as Hex };
  } else {
    const message = gethError(err.error, { lastOp: 0, lastOpName: "", lastGas: 0n, sstoreSentry: false });
    out.error = { message, code: -32015 };
  }
  return out;
}

/** The string of a Solidity `Error(string)` revert, as geth's newRevertError unpacks it. */
function revertReason(data: Uint8Array): string | undefined {
  if (data.length < 68 || bytesToHex(data.subarray(0, 4)) !== "0x08c379a0") return undefined;
  const view = Buffer.from(data.subarray(4));
  const offset = Number(BigInt(`0x${view.subarray(0, 32).toString("hex")}`));
  if (offset + 32 > view.length) return undefined;
  const len = Number(BigInt(`0x${view.subarray(offset, offset + 32).toString("hex")}`));
  if (offset + 32 + len > view.length) return undefined;
  return view.subarray(offset + 32, offset + 32 + len).toString("utf8");
}
