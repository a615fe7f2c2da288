import { bytesToHex } from "@ethereumjs/util";
import { type CallFrame, CallTracer } from "./callTracer.ts";
import type { FrameType, Hex, Tracer, TxEnv } from "./hooks.ts";
import { quantity } from "./json.ts";

export type FlatCallTracerConfig = { convertParityErrors?: boolean; includePrecompiles?: boolean };

/** Where the flat frames sit (parity's trace_* fields). */
export type FlatContext = { blockHash?: Hex; blockNumber?: bigint; txHash?: Hex; txIndex?: number };

const PARITY_ERRORS: Record<string, string> = {
  "contract creation code storage out of gas": "Out of gas",
  "out of gas": "Out of gas",
  "gas uint64 overflow": "Out of gas",
  "max code size exceeded": "Out of gas",
  "invalid jump destination": "Bad jump destination",
  "execution reverted": "Reverted",
  "return data out of bounds": "Out of bounds",
  "stack limit reached 1024 (1023)": "Out of stack",
  "precompiled failed": "Built-in failed",
  "invalid input length": "Built-in failed",
};
const PARITY_PREFIXES: [string, string][] = [
  ["out of gas:", "Out of gas"],
  ["invalid opcode:", "Bad instruction"],
  ["stack underflow", "Stack underflow"],
];

/** geth's `flatCallTracer` (eth/tracers/native/call_flat.go): parity-style traces. */
export class FlatCallTracer implements Tracer {
  readonly wantsOpcodes = false;
  private readonly inner = new CallTracer({});
  private precompiles: ReadonlySet<string> = new Set();
  private readonly config: FlatCallTracerConfig;
  private readonly ctx: FlatContext;
  constructor(config: FlatCallTracerConfig = {}, ctx: FlatContext = {}) {
    this.config = config;
    this.ctx = ctx;
  }

  onTxStart(env: TxEnv): void {
    this.inner.onTxStart(env);
    this.precompiles = env.precompiles;
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
    this.inner.onEnter(depth, type, from, to, input, gas, value);
    if (depth === 0) return;
    const top = this.inner.stack[this.inner.stack.length - 1] as CallFrame;
    if (top.value === undefined && value === undefined) top.value = 0n;
  }

  onExit(
    depth: number,
    output: Uint8Array,
    gasUsed: bigint,
    error: string | undefined,
    reverted: boolean,
  ): void {
    this.inner.onExit(depth, output, gasUsed, error, reverted);
    if (depth === 0 || this.config.includePrecompiles === true) return;
    const parent = this.inner.stack[this.inner.stack.length - 1] as CallFrame;
    const call = parent.calls[parent.calls.length - 1] as CallFrame;
    if (
      (call.type === "CALL" || call.type === "STATICCALL") &&
      call.to !== undefined &&
      this.precompiles.has(call.to)
    )
      parent.calls.pop();
  }

  onTxEnd(gasUsed: bigint): void {
    this.inner.onTxEnd(gasUsed);
  }

  result(): unknown {
    return flatten(this.inner.top(), [], this.config.convertParityErrors === true, this.ctx);
  }
}

function flatten(
  f: CallFrame,
  traceAddress: number[],
  convert: boolean,
  ctx: FlatContext,
): Record<string, unknown>[] {
  let frame: Record<string, unknown>;
  let result: Record<string, unknown> | undefined;
  const output = f.output ?? new Uint8Array(0);
  if (f.type === "CREATE" || f.type === "CREATE2") {
    frame = {
      type: "create",
      action: {
        creationMethod: f.type.toLowerCase(),
        from: f.from,
        gas: quantity(f.gas),
        ...(f.value !== undefined ? { value: quantity(f.value) } : {}),
        init: bytesToHex(f.input),
      },
    };
    result = {
      gasUsed: quantity(f.gasUsed),
      ...(f.to !== undefined ? { address: f.to } : {}),
      code: bytesToHex(output),
    };
  } else if (f.type === "SELFDESTRUCT") {
    frame = {
      type: "suicide",
      action: {
        address: f.from,
        ...(f.value !== undefined ? { balance: quantity(f.value) } : {}),
        ...(f.to !== undefined ? { refundAddress: f.to } : {}),
      },
    };
  } else {
    frame = {
      type: "call",
      action: {
        from: f.from,
        ...(f.to !== undefined ? { to: f.to } : {}),
        gas: quantity(f.gas),
        ...(f.value !== undefined ? { value: quantity(f.value) } : {}),
        callType: f.type.toLowerCase(),
        input: bytesToHex(f.input),
      },
    };
    result = { gasUsed: quantity(f.gasUsed), output: bytesToHex(output) };
  }
  let error = f.error;
  if (error !== undefined && convert) {
    const mapped = PARITY_ERRORS[error] ?? PARITY_PREFIXES.find(([p]) => error?.startsWith(p))?.[1];
    if (mapped !== undefined) error = mapped;
  }
  if (f.error !== undefined && f.error !== "execution reverted") result = undefined;
  const out: Record<string, unknown> = {
    action: frame.action,
    blockHash: ctx.blockHash ?? null,
    blockNumber: Number(ctx.blockNumber ?? 0n),
    ...(error !== undefined ? { error } : {}),
    ...(result !== undefined ? { result } : {}),
    subtraces: f.calls.length,
    traceAddress,
    transactionHash: ctx.txHash ?? null,
    transactionPosition: ctx.txIndex ?? 0,
    type: frame.type,
  };
  const all = [out];
  f.calls.forEach((c, i) => {
    all.push(...flatten(c, [...traceAddress, i], convert, ctx));
  });
  return all;
}
