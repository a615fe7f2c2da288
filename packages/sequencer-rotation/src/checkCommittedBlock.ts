import { assertAddress } from "./address.ts";
import { RotationError, RotationErrorCode } from "./errors.ts";
import type { RotationGenesis } from "./scheduleTypes.ts";
import type { CommittedBlock } from "./types.ts";

const HASH_RE = /^0x[0-9a-f]{64}$/;

/** A genesis hash and timestamp the schedule can start from. */
export function checkGenesis(g: RotationGenesis): void {
  if (!HASH_RE.test(g.hash)) throw invalidBlock("genesis hash must be 0x + 64 lower-case hex", {});
  if (!Number.isSafeInteger(g.timestamp) || g.timestamp < 0) throw invalidBlock("bad genesis timestamp", {});
}

/** A committed block fit to apply next: the expected height, a sane round, hash, proposer and time. */
export function checkCommittedBlock(
  block: CommittedBlock,
  expectedHeight: number,
  lastTimestamp: number,
): void {
  if (block.height !== expectedHeight) {
    throw new RotationError(RotationErrorCode.HeightMismatch, "blocks must be applied in height order", {
      details: { height: block.height, expected: expectedHeight },
    });
  }
  if (!Number.isSafeInteger(block.round) || block.round < 0)
    throw invalidBlock("bad round", { round: block.round });
  if (typeof block.hash !== "string" || !HASH_RE.test(block.hash)) {
    throw invalidBlock("hash must be 0x + 64 lower-case hex", { hash: String(block.hash) });
  }
  assertAddress(block.proposer, "proposer");
  if (!Number.isSafeInteger(block.timestamp) || block.timestamp < lastTimestamp) {
    throw invalidBlock("timestamp must be an integer not below the parent's", {
      timestamp: block.timestamp,
      parent: lastTimestamp,
    });
  }
}

function invalidBlock(message: string, details: Record<string, unknown>): RotationError {
  return new RotationError(RotationErrorCode.InvalidBlock, message, { details });
}
