/**
 * geth's tracing hooks (core/tracing.Hooks), the subset the built-in tracers use. The driver in
 * `evmHooks.ts` derives them from @ethereumjs/evm's `step`/`beforeMessage`/`afterMessage`
 * events, so each tracer is written the way geth's native tracer is and checked against geth's
 * fixtures.
 */
import type { StateManagerInterface } from "@ethereumjs/common";
import type { TypedTransaction } from "@ethereumjs/tx";

export type Hex = `0x${string}`;

/** Frame kinds as geth names them (vm.OpCode strings). */
export type FrameType =
  | "CALL"
  | "CALLCODE"
  | "DELEGATECALL"
  | "STATICCALL"
  | "CREATE"
  | "CREATE2"
  | "SELFDESTRUCT";

export type TxEnv = {
  tx: TypedTransaction;
  from: Hex;
  /** Recipient, or the address the creation deploys to. */
  to: Hex;
  created: boolean;
  coinbase: Hex;
  blockNumber: bigint;
  timestamp: bigint;
  /** Reads the state as it is at the moment of the call (pre-state inside onTxStart). */
  state: StateManagerInterface;
  isActivatedEIP(eip: number): boolean;
  /** Whether the block's fork is `hardfork` or later (ethereumjs lists no EIP for older forks' rules). */
  gteHardfork(hardfork: string): boolean;
  /** Addresses of the precompiles active in this block. */
  precompiles: ReadonlySet<string>;
};

export type OpcodeStep = {
  pc: number;
  op: number;
  opName: string;
  gas: bigint;
  /** geth's cost: static + dynamic gas, plus the gas handed to a callee for the call family. */
  cost: bigint;
  depth: number;
  /** Bottom first, as geth's StackData(). */
  stack: bigint[];
  memory: Uint8Array;
  address: Hex;
  refund: bigint;
  returnData: Uint8Array;
};

export type LogEntry = { address: Hex; topics: Hex[]; data: Hex; index: number };

/** A tracer: hooks plus the JSON result. Hooks may be async (they read state). */
export interface Tracer {
  onTxStart?(env: TxEnv): Promise<void> | void;
  onEnter?(
    depth: number,
    type: FrameType,
    from: Hex,
    to: Hex,
    input: Uint8Array,
    gas: bigint,
    value: bigint | undefined,
  ): void;
  onExit?(
    depth: number,
    output: Uint8Array,
    gasUsed: bigint,
    error: string | undefined,
    reverted: boolean,
  ): void;
  onOpcode?(step: OpcodeStep): Promise<void> | void;
  onLog?(log: LogEntry): void;
  onTxEnd?(gasUsed: bigint, env: TxEnv): Promise<void> | void;
  /** Whether the driver must deliver `onOpcode` (costly: the stack and memory are copied). */
  readonly wantsOpcodes: boolean;
  result(): unknown;
}
