/**
 * eth_simulateV1's `traceTransfers` (geth's simulate tracer): every frame that moves ether,
 * except a DELEGATECALL, logs an ERC-20 `Transfer(from, to, value)` from the pseudo-address
 * 0xeeee…eeee, in order with the frame's real logs; a reverted frame's logs are dropped.
 */
import type { Block } from "@ethereumjs/block";
import type { TypedTransaction } from "@ethereumjs/tx";
import { bytesToHex, generateAddress } from "@ethereumjs/util";
import type { VM } from "@ethereumjs/vm";
import { attachEvmHooks, type EvmHooks } from "../trace/evmHooks.ts";
import type { FrameType, Hex, LogEntry, Tracer, TxEnv } from "../trace/hooks.ts";
import { activePrecompiles } from "../trace/traceTx.ts";
import type { SimLog } from "./simulate.ts";

export const TRANSFER_LOG_ADDRESS = `0x${"ee".repeat(20)}` as Hex;
/** keccak256("Transfer(address,address,uint256)"). */
const TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef" as Hex;
const word = (h: string): Hex => `0x${h.slice(2).padStart(64, "0")}` as Hex;

class FrameLogs implements Tracer {
  readonly wantsOpcodes = false;
  private frames: SimLog[][] = [];
  private out: SimLog[] | undefined;
  /** geth's log counter: every log captured in the block, kept or dropped with its frame. */
  count: number;
  private readonly transfers: boolean;
  constructor(transfers: boolean, first: number) {
    this.transfers = transfers;
    this.count = first;
  }

  onEnter(
    _d: number,
    type: FrameType,
    from: Hex,
    to: Hex,
    _i: Uint8Array,
    _g: bigint,
    value: bigint | undefined,
  ) {
    const frame: SimLog[] = [];
    this.frames.push(frame);
    if (this.transfers && type !== "DELEGATECALL" && value !== undefined && value > 0n)
      frame.push({
        address: TRANSFER_LOG_ADDRESS,
        topics: [TRANSFER_TOPIC, word(from), word(to)],
        data: word(`0x${value.toString(16)}`),
        index: this.count++,
      });
  }

  onExit(depth: number, _o: Uint8Array, _g: bigint, _e: string | undefined, reverted: boolean) {
    const frame = this.frames.pop() ?? [];
    if (depth === 0) {
      this.out = reverted ? [] : frame;
      return;
    }
    if (!reverted) this.frames[this.frames.length - 1]?.push(...frame);
  }

  onLog(log: LogEntry) {
    const index = this.count++;
    this.frames[this.frames.length - 1]?.push({
      address: log.address,
      topics: log.topics,
      data: log.data,
      index,
    });
  }

  result(): unknown {
    return this.out ?? [];
  }
}

/**
 * The logs of one simulated call as geth's simulate tracer reports them (with `traceTransfers`,
 * the ether transfers among them), numbered with geth's block-wide counter.
 */
export class TransferLogger {
  private readonly tracer: FrameLogs;
  private readonly hooks: EvmHooks;

  constructor(vm: VM, block: Block, tx: TypedTransaction, transfers: boolean, firstIndex: number) {
    this.tracer = new FrameLogs(transfers, firstIndex);
    const from = tx.getSenderAddress();
    const created = tx.to === undefined;
    const nonce = tx.nonce;
    const to = created
      ? (bytesToHex(generateAddress(from.bytes, nonce === 0n ? new Uint8Array(0) : hexBytes(nonce))) as Hex)
      : (tx.to?.toString().toLowerCase() as Hex);
    const env: TxEnv = {
      tx,
      from: from.toString().toLowerCase() as Hex,
      to,
      created,
      coinbase: block.header.coinbase.toString().toLowerCase() as Hex,
      blockNumber: block.header.number,
      timestamp: block.header.timestamp,
      state: vm.stateManager,
      isActivatedEIP: (eip) => vm.common.isActivatedEIP(eip),
      gteHardfork: (hf) => vm.common.gteHardfork(hf),
      precompiles: activePrecompiles(vm),
    };
    this.hooks = attachEvmHooks(vm.evm, env, this.tracer);
  }

  detach(): void {
    this.hooks.detach();
  }

  /** The next call's first log index. */
  nextIndex(): number {
    return this.tracer.count;
  }

  logs(): SimLog[] {
    return this.tracer.result() as SimLog[];
  }
}

function hexBytes(v: bigint): Uint8Array {
  let s = v.toString(16);
  if (s.length % 2) s = `0${s}`;
  return Uint8Array.from(Buffer.from(s, "hex"));
}
