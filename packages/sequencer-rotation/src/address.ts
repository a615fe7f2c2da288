import { RotationError, RotationErrorCode } from "./errors.ts";
import type { Address } from "./types.ts";

const ADDRESS_RE = /^0x[0-9a-f]{40}$/;

/** True for a lower-case `0x` + 40 hex string: the only address form this package accepts. */
export function isAddress(value: unknown): value is Address {
  return typeof value === "string" && ADDRESS_RE.test(value);
}

export function assertAddress(value: unknown, field: string): asserts value is Address {
  if (!isAddress(value)) {
    throw new RotationError(RotationErrorCode.InvalidAddress, `${field} must be a lower-case 0x address`, {
      details: { field, value: String(value) },
    });
  }
}

/** Byte order of two lower-case addresses (equal length, so string order is byte order). */
export function compareAddresses(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
