import type { StateManagerInterface } from "@ethereumjs/common";
import { bytesToHex, createAddressFromString, hexToBytes, setLengthLeft } from "@ethereumjs/util";
import type { Hex, OpcodeStep, Tracer, TxEnv } from "./hooks.ts";
import { TraceError, TraceErrorCode } from "./traceErrors.ts";

export type StructLoggerConfig = {
  disableStack?: boolean;
  disableStorage?: boolean;
  enableMemory?: boolean;
  /** Older clients' spelling; `disableMemory: false` turns memory on. */
  disableMemory?: boolean;
  enableReturnData?: boolean;
  /** geth's `limit`: most struct logs kept (0: no count limit). */
  limit?: number;
};

/**
 * geth's struct logger (eth/tracers/logger), the default tracer of debug_trace*. Its output is
 * bounded by `maxBytes` (ADR 0135): every entry's JSON size is counted as it is made and the
 * trace fails with TRACE_TOO_LARGE once it passes the cap, instead of building gigabytes.
 */
export class StructLogger implements Tracer {
  readonly wantsOpcodes = true;
  private readonly logs: Record<string, unknown>[] = [];
  private readonly storage = new Map<Hex, Map<Hex, Hex>>();
  private size = 0;
  private output: Uint8Array = new Uint8Array(0);
  private error: string | undefined;
  private gasUsed = 0n;
  private readonly memory: boolean;

  private readonly config: StructLoggerConfig;
  private readonly maxBytes: number;
  constructor(config: StructLoggerConfig = {}, maxBytes = 64 * 1024 * 1024) {
    this.config = config;
    this.maxBytes = maxBytes;
    this.memory = config.enableMemory === true || config.disableMemory === false;
  }

  async onOpcode(s: OpcodeStep): Promise<void> {
    if (this.config.limit !== undefined && this.config.limit > 0 && this.logs.length >= this.config.limit)
      return;
    const entry: Record<string, unknown> = {
      pc: s.pc,
      op: s.opName,
      gas: Number(s.gas),
      gasCost: Number(s.cost),
      depth: s.depth,
    };
    let bytes = 80;
    if (this.config.disableStack !== true) {
      const stack = s.stack.map((v) => `0x${v.toString(16)}`);
      entry.stack = stack;
      for (const v of stack) bytes += v.length + 3;
    }
    if (this.config.enableReturnData === true && s.returnData.length > 0) {
      entry.returnData = bytesToHex(s.returnData);
      bytes += s.returnData.length * 2;
    }
    if (this.memory && s.memory.length > 0) {
      const words: string[] = [];
      for (let i = 0; i < s.memory.length; i += 32) {
        const w = new Uint8Array(32);
        w.set(s.memory.subarray(i, i + 32));
        words.push(bytesToHex(w));
      }
      entry.memory = words;
      bytes += words.length * 69;
    }
    if (this.config.disableStorage !== true && (s.op === 0x54 || s.op === 0x55)) {
      const n = s.stack.length;
      let slots = this.storage.get(s.address);
      if (slots === undefined) {
        slots = new Map();
        this.storage.set(s.address, slots);
      }
      const word = (v: bigint): Hex => `0x${v.toString(16).padStart(64, "0")}` as Hex;
      if (s.op === 0x54 && n >= 1) {
        const key = word(s.stack[n - 1] as bigint);
        slots.set(key, await this.readSlot(s.address, key));
        entry.storage = Object.fromEntries(slots);
      } else if (s.op === 0x55 && n >= 2) {
        slots.set(word(s.stack[n - 1] as bigint), word(s.stack[n - 2] as bigint));
        entry.storage = Object.fromEntries(slots);
      }
      if (entry.storage !== undefined) bytes += slots.size * 140;
    }
    if (s.refund > 0n) entry.refund = Number(s.refund);
    this.size += bytes;
    if (this.size > this.maxBytes)
      throw new TraceError(
        TraceErrorCode.TooLarge,
        `trace exceeds ${this.maxBytes} bytes; use a tracer or disable stack/memory/storage`,
        {
          details: { maxBytes: this.maxBytes },
        },
      );
    this.logs.push(entry);
  }

  private state: StateManagerInterface | undefined;

  onTxStart(env: TxEnv): void {
    this.state = env.state;
  }

  private async readSlot(address: Hex, key: Hex): Promise<Hex> {
    const v =
      (await this.state?.getStorage(createAddressFromString(address), hexToBytes(key))) ?? new Uint8Array(0);
    return bytesToHex(setLengthLeft(v, 32)) as Hex;
  }

  onExit(depth: number, output: Uint8Array, _gasUsed: bigint, error: string | undefined): void {
    if (depth !== 0) return;
    this.output = output;
    this.error = error;
  }

  onTxEnd(gasUsed: bigint): void {
    this.gasUsed = gasUsed;
  }

  result(): unknown {
    const failed = this.error !== undefined;
    const returnValue = failed && this.error !== "execution reverted" ? "0x" : bytesToHex(this.output);
    return { gas: Number(this.gasUsed), failed, returnValue, structLogs: this.logs };
  }
}
