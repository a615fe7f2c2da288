import { bytesToHex } from "@ethereumjs/util";
import type { FrameType, Hex, Tracer, TxEnv } from "./hooks.ts";

/** geth's `4byteTracer`: counts of `selector-calldataSize` over the calls of a transaction. */
export class FourByteTracer implements Tracer {
  readonly wantsOpcodes = false;
  private readonly ids = new Map<string, number>();
  private precompiles: ReadonlySet<string> = new Set();

  onTxStart(env: TxEnv): void {
    this.precompiles = env.precompiles;
  }

  onEnter(_depth: number, type: FrameType, _from: Hex, to: Hex, input: Uint8Array): void {
    if (input.length < 4) return;
    if (type !== "CALL" && type !== "CALLCODE" && type !== "DELEGATECALL" && type !== "STATICCALL") return;
    if (this.precompiles.has(to)) return;
    const key = `${bytesToHex(input.subarray(0, 4))}-${input.length - 4}`;
    this.ids.set(key, (this.ids.get(key) ?? 0) + 1);
  }

  result(): unknown {
    return Object.fromEntries(this.ids);
  }
}

/** geth's `noopTracer`: runs the transaction, returns `{}`. */
export class NoopTracer implements Tracer {
  readonly wantsOpcodes = false;
  result(): unknown {
    return {};
  }
}
