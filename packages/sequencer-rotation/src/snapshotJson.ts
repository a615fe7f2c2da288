import { RotationError, RotationErrorCode } from "./errors.ts";
import type { RotationSnapshot } from "./schedule.ts";

const BIGINT_RE = /^-?\d+n$/;

/**
 * A snapshot as a JSON string, for storage. Bigints become decimal strings with an `n` suffix
 * ("123n"); no other string in a snapshot has that form (hex carries `0x`, statuses are words).
 */
export function encodeRotationSnapshot(snapshot: RotationSnapshot): string {
  return JSON.stringify(snapshot, (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
}

export function decodeRotationSnapshot(json: string): RotationSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json, (_k, v) =>
      typeof v === "string" && BIGINT_RE.test(v) ? BigInt(v.slice(0, -1)) : v,
    );
  } catch (cause) {
    throw new RotationError(RotationErrorCode.SnapshotInvalid, "snapshot is not valid JSON", { cause });
  }
  if (typeof parsed !== "object" || parsed === null || (parsed as { version?: unknown }).version !== 1) {
    throw new RotationError(RotationErrorCode.SnapshotVersion, "unknown snapshot version");
  }
  return parsed as RotationSnapshot;
}
