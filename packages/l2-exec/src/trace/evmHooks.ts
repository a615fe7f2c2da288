import type { EVMInterface, EVMResult, InterpreterStep, Message } from "@ethereumjs/evm";
import { type Address, bytesToHex, generateAddress, generateAddress2, setLengthLeft } from "@ethereumjs/util";
import type { FrameType, Hex, Tracer, TxEnv } from "./hooks.ts";

/**
 * Drives a geth-style `Tracer` from @ethereumjs/evm events. ethereumjs emits `beforeMessage` /
 * `afterMessage` for every frame that starts (precompiles included) and `step` before each
 * opcode; it does not say which opcode opened a frame, and a call that fails before its frame
 * starts (depth limit, balance too low) emits no message at all. So the driver remembers the
 * last call-family step of each frame: a message at depth + 1 is that call; a later step in the
 * same frame without one is geth's failed-early frame (entered and left with an error, 0 gas
 * used). LOG and SELFDESTRUCT are taken from their steps and confirmed when the frame goes on.
 */

const OP = {
  SLOAD: 0x54,
  SSTORE: 0x55,
  CREATE: 0xf0,
  CALL: 0xf1,
  CALLCODE: 0xf2,
  DELEGATECALL: 0xf4,
  CREATE2: 0xf5,
  STATICCALL: 0xfa,
  SELFDESTRUCT: 0xff,
} as const;

const CALL_TYPES: Record<number, FrameType> = {
  [OP.CREATE]: "CREATE",
  [OP.CALL]: "CALL",
  [OP.CALLCODE]: "CALLCODE",
  [OP.DELEGATECALL]: "DELEGATECALL",
  [OP.CREATE2]: "CREATE2",
  [OP.STATICCALL]: "STATICCALL",
};

const MAX_DEPTH = 1024;

type PendingCall = {
  type: FrameType;
  depth: number;
  from: Hex;
  to: Hex | undefined;
  input: Uint8Array;
  value: bigint | undefined;
  /** Gas the callee would get (failed-early frames report it). */
  gas: bigint;
  /** CREATE: the creator's nonce at the step (the new address). */
  nonce: bigint;
  salt?: bigint;
};

type PendingLog = { depth: number; address: Hex; topics: Hex[]; data: Uint8Array };
type PendingSelfdestruct = { depth: number; from: Hex; to: Hex; value: bigint };

type OpenFrame = {
  depth: number;
  type: FrameType;
  /** Last opcode run in this frame and the gas left before it (error texts). */
  lastOp: number;
  lastOpName: string;
  lastGas: bigint;
  lastCost: bigint;
  returnData: Uint8Array;
  precompile: boolean;
  /** What the frame's RETURN handed back (creations: the code, even when it cannot be stored). */
  returned?: Uint8Array;
};

export type EvmHooksOptions = {
  /** Index of the first log (geth counts logs across the block). */
  logIndex?: number;
  /** Checked before each opcode: throw to stop (timeouts, size caps). */
  check?: () => void;
};

export type EvmHooks = {
  /** Stops listening; rethrows the first error a tracer hook raised. */
  detach(): void;
  /** Logs the transaction emitted (for the next transaction's log index). */
  logCount(): number;
};

const hexAddr = (a: Address): Hex => a.toString().toLowerCase() as Hex;
const toAddr = (v: bigint): Hex => `0x${v.toString(16).padStart(40, "0").slice(-40)}` as Hex;
const toWord = (v: bigint): Hex => `0x${v.toString(16).padStart(64, "0")}` as Hex;

function memSlice(memory: Uint8Array, offset: bigint, size: bigint): Uint8Array {
  if (size === 0n) return new Uint8Array(0);
  if (size > 1n << 24n) return new Uint8Array(0); // would run out of gas anyway
  const out = new Uint8Array(Number(size));
  const off = offset > BigInt(memory.length) ? memory.length : Number(offset);
  out.set(memory.subarray(off, Math.min(memory.length, off + out.length)));
  return out;
}

const ERROR_PREFIXES = [
  "revert",
  "out of gas",
  "invalid JUMP",
  "invalid opcode",
  "stack overflow",
  "stack underflow",
  "static state change",
  "code store out of gas",
  "code size to deposit exceeds maximum code size",
  "create collision",
  "invalid bytecode deployed",
  "value out of range",
  "initcode exceeds max initcode size",
];

/** geth's error text for an ethereumjs exception. */
export function gethError(
  error: string,
  ctx: { lastOp: number; lastOpName: string; lastGas: bigint; sstoreSentry: boolean },
): string {
  // ethereumjs appends where it happened ("invalid JUMP at <hash>/<address>:<pc>").
  const known = ERROR_PREFIXES.find((p) => error === p || error.startsWith(`${p} `));
  switch (known ?? error) {
    case "revert":
      return "execution reverted";
    case "out of gas":
      if (ctx.lastOp === OP.SSTORE && ctx.sstoreSentry && ctx.lastGas <= 2300n)
        return "out of gas: not enough gas for reentrancy sentry";
      return "out of gas";
    case "invalid JUMP":
      return "invalid jump destination";
    case "invalid opcode":
      return ctx.lastOp === 0xfe || ctx.lastOpName !== "INVALID"
        ? `invalid opcode: ${ctx.lastOpName}`
        : `invalid opcode: opcode 0x${ctx.lastOp.toString(16).padStart(2, "0")} not defined`;
    case "stack overflow":
      return "stack limit reached 1024 (1023)";
    case "static state change":
      return "write protection";
    case "code store out of gas":
      return "contract creation code storage out of gas";
    case "code size to deposit exceeds maximum code size":
      return "max code size exceeded";
    case "create collision":
      return "contract address collision";
    case "invalid bytecode deployed":
      return "invalid code: must not begin with 0xef";
    case "value out of range":
      return "return data out of bounds";
    case "initcode exceeds max initcode size":
      return "max initcode size exceeded";
    default:
      return error;
  }
}

/** geth's callee gas: all but one 64th of what is left (EIP-150), capped by the stack's ask. */
function calleeGas(env: TxEnv, op: number, available: bigint, asked: bigint): bigint {
  const eip150 = env.gteHardfork("tangerineWhistle");
  const all = eip150 ? available - available / 64n : available;
  if (op === OP.CREATE || op === OP.CREATE2) return all < 0n ? 0n : all;
  if (!eip150) return asked;
  return asked < all ? asked : all < 0n ? 0n : all;
}

export function attachEvmHooks(
  evm: EVMInterface,
  env: TxEnv,
  tracer: Tracer,
  opts: EvmHooksOptions = {},
): EvmHooks {
  const frames: OpenFrame[] = [];
  let pendingCall: PendingCall | undefined;
  let pendingLog: PendingLog | undefined;
  let pendingSd: PendingSelfdestruct | undefined;
  let logIndex = opts.logIndex ?? 0;
  const firstLog = logIndex;
  let failure: unknown;
  const sstoreSentry = env.gteHardfork("istanbul");

  const commitLog = () => {
    if (pendingLog === undefined) return;
    const l = pendingLog;
    pendingLog = undefined;
    tracer.onLog?.({
      address: l.address,
      topics: l.topics,
      data: bytesToHex(l.data) as Hex,
      index: logIndex++,
    });
  };

  const failEarly = (p: PendingCall) => {
    const error = p.depth + 1 > MAX_DEPTH ? "max call depth exceeded" : "insufficient balance for transfer";
    const to =
      p.to ??
      ((p.type === "CREATE2"
        ? bytesToHex(generateAddress2(hexBytes(p.from), hexBytes(toWord(p.salt ?? 0n)), p.input))
        : bytesToHex(generateAddress(hexBytes(p.from), bigBytes(p.nonce)))) as Hex);
    tracer.onEnter?.(p.depth + 1, p.type, p.from, to, p.input, p.gas, p.value);
    tracer.onExit?.(p.depth + 1, new Uint8Array(0), 0n, error, true);
  };

  const onStep = async (e: InterpreterStep): Promise<void> => {
    const depth = e.depth;
    if (pendingCall !== undefined && pendingCall.depth === depth) {
      failEarly(pendingCall);
      pendingCall = undefined;
    }
    if (pendingLog !== undefined && pendingLog.depth === depth) commitLog();
    const op = e.opcode.code;
    const frame = frames[frames.length - 1];
    if (frame !== undefined) {
      frame.lastOp = op;
      frame.lastOpName = e.opcode.name;
      frame.lastGas = e.gasLeft;
      frame.lastCost = e.opcode.dynamicFee ?? BigInt(e.opcode.fee);
    }
    const stack = e.stack;
    const n = stack.length;
    const at = (i: number): bigint => stack[n - 1 - i] ?? 0n;
    const address = hexAddr(e.address);
    const fee = e.opcode.dynamicFee ?? BigInt(e.opcode.fee);
    let cost = fee;
    const type = CALL_TYPES[op];
    if (type !== undefined) {
      const isCreate = op === OP.CREATE || op === OP.CREATE2;
      const available = e.gasLeft - fee;
      const gas = calleeGas(env, op, available, isCreate ? 0n : at(0));
      if (!isCreate) cost += gas;
      const hasValue = op === OP.CALL || op === OP.CALLCODE;
      const value = isCreate ? at(0) : hasValue ? at(2) : undefined;
      const input = isCreate
        ? memSlice(e.memory, at(1), at(2))
        : hasValue
          ? memSlice(e.memory, at(3), at(4))
          : memSlice(e.memory, at(2), at(3));
      pendingCall = {
        type,
        depth,
        from: address,
        to: isCreate ? undefined : toAddr(at(1)),
        input,
        value: op === OP.STATICCALL ? undefined : op === OP.DELEGATECALL ? undefined : value,
        gas: gas + (hasValue && (value ?? 0n) > 0n ? 2300n : 0n),
        nonce: e.account.nonce,
        ...(op === OP.CREATE2 ? { salt: at(3) } : {}),
      };
    } else if (op >= 0xa0 && op <= 0xa4) {
      const topics: Hex[] = [];
      for (let i = 0; i < op - 0xa0; i++) topics.push(toWord(at(2 + i)));
      pendingLog = { depth, address, topics, data: memSlice(e.memory, at(0), at(1)) };
    } else if (op === 0xf3 && frame !== undefined && (frame.type === "CREATE" || frame.type === "CREATE2")) {
      frame.returned = memSlice(e.memory, at(0), at(1));
    } else if (op === OP.SELFDESTRUCT) {
      const account = await e.stateManager.getAccount(e.address);
      pendingSd = { depth, from: address, to: toAddr(at(0)), value: account?.balance ?? 0n };
    }
    if (tracer.wantsOpcodes) {
      await tracer.onOpcode?.({
        pc: e.pc,
        op,
        opName: e.opcode.name,
        gas: e.gasLeft,
        cost,
        depth: depth + 1,
        stack,
        memory: e.memory,
        address,
        refund: e.gasRefund,
        returnData: frame?.returnData ?? new Uint8Array(0),
      });
    }
  };

  const onBefore = (msg: Message): void => {
    const depth = msg.depth;
    let type: FrameType;
    let from: Hex;
    let to: Hex;
    let value: bigint | undefined = msg.value;
    if (depth === 0) {
      type = env.created ? "CREATE" : "CALL";
      from = env.from;
      to = env.to;
    } else {
      const p = pendingCall;
      pendingCall = undefined;
      type = p?.type ?? (msg.to === undefined ? "CREATE" : "CALL");
      from = p?.from ?? hexAddr(msg.caller);
      if (p?.to !== undefined) to = p.to;
      else if (type === "CREATE2")
        to = bytesToHex(
          generateAddress2(msg.caller.bytes, setLengthLeft(msg.salt ?? new Uint8Array(0), 32), msg.data),
        ) as Hex;
      else to = bytesToHex(generateAddress(msg.caller.bytes, bigBytes(p?.nonce ?? 0n))) as Hex;
      if (type === "STATICCALL") value = undefined;
      if (type === "DELEGATECALL") value = msg.value;
    }
    const parent = frames[frames.length - 1];
    if (parent !== undefined) parent.returnData = new Uint8Array(0);
    frames.push({
      depth,
      type,
      lastOp: -1,
      lastOpName: "",
      lastGas: 0n,
      lastCost: 0n,
      returnData: new Uint8Array(0),
      precompile: env.precompiles.has(to),
    });
    // msg.data can be a view of the caller's memory, which later opcodes overwrite.
    tracer.onEnter?.(depth, type, from, to, msg.data.slice(), msg.gasLimit, value);
  };

  const onAfter = (res: EVMResult): void => {
    const frame = frames.pop();
    if (frame === undefined) return;
    const exec = res.execResult;
    const err = exec.exceptionError?.error;
    if (pendingCall !== undefined && pendingCall.depth === frame.depth) {
      if (err === undefined) failEarly(pendingCall);
      pendingCall = undefined;
    }
    if (pendingLog !== undefined && pendingLog.depth === frame.depth) {
      if (err === undefined) commitLog();
      pendingLog = undefined;
    }
    if (pendingSd !== undefined && pendingSd.depth === frame.depth) {
      const sd = pendingSd;
      pendingSd = undefined;
      if (err === undefined) {
        tracer.onEnter?.(frame.depth + 1, "SELFDESTRUCT", sd.from, sd.to, new Uint8Array(0), 0n, sd.value);
        tracer.onExit?.(frame.depth + 1, new Uint8Array(0), 0n, undefined, false);
      }
    }
    // Frontier: a creation that cannot pay for its code keeps its state (not reverted).
    const frontierCodeStore = err === "code store out of gas" && !env.gteHardfork("homestead");
    // A creation whose RETURN ran but whose code could not be paid for: geth's code-store error.
    const depositOog =
      err === "out of gas" &&
      (frame.type === "CREATE" || frame.type === "CREATE2") &&
      frame.lastOp === 0xf3 &&
      frame.lastGas >= frame.lastCost;
    const error =
      err === undefined
        ? undefined
        : depositOog
          ? "contract creation code storage out of gas"
          : frame.precompile && err.startsWith("value out of range")
            ? "invalid input length" // blake2f's length check
            : gethError(err, { ...frame, sstoreSentry });
    const output = frontierCodeStore && frame.returned !== undefined ? frame.returned : exec.returnValue;
    tracer.onExit?.(
      frame.depth,
      output,
      exec.executionGasUsed,
      error,
      error !== undefined && !frontierCodeStore,
    );
    const parent = frames[frames.length - 1];
    if (parent !== undefined)
      parent.returnData = err === undefined || err === "revert" ? exec.returnValue : new Uint8Array(0);
  };

  const events = evm.events;
  if (events === undefined) throw new Error("the EVM has no event emitter");
  const step = (e: InterpreterStep, resolve?: (v?: unknown) => void): void => {
    onStep(e).then(
      () => resolve?.(),
      (err: unknown) => {
        failure ??= err;
        resolve?.();
      },
    );
  };
  const guard =
    <T>(fn: (x: T) => void) =>
    (x: T): void => {
      try {
        fn(x);
      } catch (err) {
        failure ??= err;
      }
    };
  const before = guard(onBefore);
  const after = guard(onAfter);
  // A synchronous listener: what it throws aborts the run (an awaited one cannot reject).
  const check = opts.check;
  const checkStep = (): void => {
    if (failure !== undefined) throw failure;
    check?.();
  };
  events.on("step", checkStep);
  events.on("step", step);
  events.on("beforeMessage", before);
  events.on("afterMessage", after);
  return {
    detach() {
      events.off("step", step);
      events.off("step", checkStep);
      events.off("beforeMessage", before);
      events.off("afterMessage", after);
      if (failure !== undefined) throw failure;
    },
    logCount: () => logIndex - firstLog,
  };
}

function hexBytes(h: Hex): Uint8Array {
  const s = h.slice(2);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function bigBytes(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  let s = v.toString(16);
  if (s.length % 2) s = `0${s}`;
  return hexBytes(`0x${s}`);
}
