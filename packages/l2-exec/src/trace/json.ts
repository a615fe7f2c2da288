import { bytesToHex } from "@ethereumjs/util";
import type { Hex } from "./hooks.ts";

export const quantity = (v: bigint): Hex => `0x${v.toString(16)}` as Hex;

/** Solidity `Error(string)` revert data to its message (geth's abi.UnpackRevert, Error only). */
export function decodeRevertReason(data: Uint8Array): string | undefined {
  if (data.length >= 4 && bytesToHex(data.subarray(0, 4)) === "0x4e487b71") return panicReason(data);
  if (data.length < 4 + 64 || bytesToHex(data.subarray(0, 4)) !== "0x08c379a0") return undefined;
  const body = data.subarray(4);
  const word = (i: number): bigint => BigInt(bytesToHex(body.subarray(i, i + 32)));
  const offset = word(0);
  if (offset + 32n > BigInt(body.length)) return undefined;
  const len = word(Number(offset));
  const start = Number(offset) + 32;
  if (BigInt(start) + len > BigInt(body.length)) return undefined;
  return new TextDecoder().decode(body.subarray(start, start + Number(len)));
}

const PANICS: Record<number, string> = {
  0: "generic panic",
  1: "assert(false)",
  17: "arithmetic underflow or overflow",
  18: "division or modulo by zero",
  33: "enum overflow",
  34: "invalid encoded storage byte array accessed",
  49: "out-of-bounds array access; popping on an empty array",
  50: "out-of-bounds access of an array or bytesslice",
  65: "out of memory",
  81: "uninitialized function",
};

function panicReason(data: Uint8Array): string | undefined {
  if (data.length !== 36 || bytesToHex(data.subarray(0, 4)) !== "0x4e487b71") return undefined;
  const code = BigInt(bytesToHex(data.subarray(4)));
  const known = code < 256n ? PANICS[Number(code)] : undefined;
  return known ?? `unknown panic code: 0x${code.toString(16)}`;
}
