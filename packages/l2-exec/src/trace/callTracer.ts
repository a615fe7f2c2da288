import { bytesToHex } from "@ethereumjs/util";
import type { FrameType, Hex, LogEntry, Tracer } from "./hooks.ts";
import { decodeRevertReason, quantity } from "./json.ts";

export type CallTracerConfig = { onlyTopCall?: boolean; withLog?: boolean };

export type CallFrame = {
  type: FrameType;
  from: Hex;
  gas: bigint;
  gasUsed: bigint;
  to: Hex | undefined;
  input: Uint8Array;
  output?: Uint8Array;
  error?: string;
  revertReason?: string;
  calls: CallFrame[];
  logs: (LogEntry & { position: number })[];
  value: bigint | undefined;
  reverted: boolean;
};

/** geth's native `callTracer` (eth/tracers/native/call.go). */
export class CallTracer implements Tracer {
  readonly wantsOpcodes = false;
  readonly stack: CallFrame[] = [];
  private depth = 0;
  private gasLimit = 0n;
  private readonly config: CallTracerConfig;
  constructor(config: CallTracerConfig = {}) {
    this.config = config;
  }

  onTxStart(env: { tx: { gasLimit: bigint } }): void {
    this.gasLimit = env.tx.gasLimit;
  }

  onEnter(
    depth: number,
    type: FrameType,
    from: Hex,
    to: Hex,
    input: Uint8Array,
    gas: bigint,
    value: bigint | undefined,
  ): void {
    this.depth = depth;
    if (this.config.onlyTopCall === true && depth > 0) return;
    this.stack.push({
      type,
      from,
      to,
      input,
      gas: depth === 0 ? this.gasLimit : gas,
      gasUsed: 0n,
      value,
      calls: [],
      logs: [],
      reverted: false,
    });
  }

  onExit(
    depth: number,
    output: Uint8Array,
    gasUsed: bigint,
    error: string | undefined,
    reverted: boolean,
  ): void {
    if (depth === 0) {
      if (this.stack.length === 1) processOutput(this.stack[0] as CallFrame, output, error, reverted);
      return;
    }
    this.depth = depth - 1;
    if (this.config.onlyTopCall === true) return;
    if (this.stack.length <= 1) return;
    const call = this.stack.pop() as CallFrame;
    call.gasUsed = gasUsed;
    processOutput(call, output, error, reverted);
    (this.stack[this.stack.length - 1] as CallFrame).calls.push(call);
  }

  onLog(log: LogEntry): void {
    if (this.config.withLog !== true) return;
    if (this.config.onlyTopCall === true && this.depth > 0) return;
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) return;
    top.logs.push({ ...log, position: top.calls.length });
  }

  onTxEnd(gasUsed: bigint): void {
    const top = this.stack[0];
    if (top === undefined) return;
    top.gasUsed = gasUsed;
    if (this.config.withLog === true) clearFailedLogs(top, false);
  }

  /** The top frame (the flat tracer reads it). */
  top(): CallFrame {
    const top = this.stack[0];
    if (top === undefined || this.stack.length !== 1) throw new Error("incorrect number of top-level calls");
    return top;
  }

  result(): unknown {
    return frameToJson(this.top());
  }
}

function processOutput(f: CallFrame, output: Uint8Array, error: string | undefined, reverted: boolean): void {
  const err = error !== undefined && !reverted ? undefined : error;
  if (err === undefined) {
    f.output = output;
    return;
  }
  f.error = err;
  f.reverted = reverted;
  if (f.type === "CREATE" || f.type === "CREATE2") f.to = undefined;
  if (err !== "execution reverted" || output.length === 0) return;
  f.output = output;
  if (output.length < 4) return;
  const reason = decodeRevertReason(output);
  if (reason !== undefined) f.revertReason = reason;
}

function clearFailedLogs(f: CallFrame, parentFailed: boolean): void {
  const failed = (f.error !== undefined && f.reverted) || parentFailed;
  if (failed) f.logs = [];
  for (const c of f.calls) clearFailedLogs(c, failed);
}

export function frameToJson(f: CallFrame): Record<string, unknown> {
  const out: Record<string, unknown> = {
    from: f.from,
    gas: quantity(f.gas),
    gasUsed: quantity(f.gasUsed),
  };
  if (f.to !== undefined) out.to = f.to;
  out.input = bytesToHex(f.input);
  if (f.output !== undefined && f.output.length > 0) out.output = bytesToHex(f.output);
  if (f.error !== undefined) out.error = f.error;
  if (f.revertReason !== undefined) out.revertReason = f.revertReason;
  if (f.calls.length > 0) out.calls = f.calls.map(frameToJson);
  if (f.logs.length > 0)
    out.logs = f.logs.map((l) => ({
      address: l.address,
      topics: l.topics,
      data: l.data,
      index: quantity(BigInt(l.index)),
      position: quantity(BigInt(l.position)),
    }));
  if (f.value !== undefined) out.value = quantity(f.value);
  out.type = f.type;
  return out;
}
