import { isHex } from "@dseq/common";
import { assertAddress } from "./address.ts";
import { RotationError, RotationErrorCode } from "./errors.ts";
import type { StakeChange, StakeRecord } from "./types.ts";

/** Stake records keyed by L1 sequencer id. */
export type StakeRegistry = ReadonlyMap<number, StakeRecord>;

/** Builds a registry from records, checking ids and signers are unique. */
export function createStakeRegistry(records: readonly StakeRecord[]): StakeRegistry {
  const out = new Map<number, StakeRecord>();
  const signers = new Set<string>();
  for (const r of records) {
    checkRecord(r);
    if (out.has(r.id)) throw invalid("duplicate sequencer id", { id: r.id });
    if (signers.has(r.signer)) throw invalid("duplicate signer", { signer: r.signer });
    out.set(r.id, r);
    signers.add(r.signer);
  }
  return out;
}

/**
 * Why a change cannot apply to `registry`, or undefined when it can. Block validation calls
 * this before voting for a block, so that `applyStakeChange` never fails on committed data.
 * Only what is structurally impossible is refused: L1 is the authority on the rest (a record
 * that falls below the minimum simply stops counting).
 */
export function stakeChangeError(registry: StakeRegistry, change: StakeChange): string | undefined {
  if (!Number.isSafeInteger(change.id) || change.id < 0) return "id must be a non-negative integer";
  const current = registry.get(change.id);
  switch (change.kind) {
    case "lock":
      if (current) return `sequencer ${change.id} already exists`;
      if (change.amount <= 0n) return "lock amount must be positive";
      if (signerTaken(registry, change.signer, change.id)) return `signer ${change.signer} already in use`;
      return undefined;
    case "increase":
    case "withdraw":
      if (!current) return `unknown sequencer ${change.id}`;
      if (change.amount <= 0n) return `${change.kind} amount must be positive`;
      if (change.kind === "withdraw" && change.amount > current.locked) return "withdraw exceeds locked";
      return undefined;
    case "unlockStart":
      if (!current) return `unknown sequencer ${change.id}`;
      if (current.status !== "active") return `sequencer ${change.id} is already unlocking`;
      return undefined;
    case "unlockComplete":
      if (!current) return `unknown sequencer ${change.id}`;
      if (current.status !== "unlocking") return `sequencer ${change.id} has not started unlocking`;
      return undefined;
    case "signerUpdate":
      if (!current) return `unknown sequencer ${change.id}`;
      if (signerTaken(registry, change.signer, change.id)) return `signer ${change.signer} already in use`;
      return undefined;
    case "rewardRecipientUpdate":
      if (!current) return `unknown sequencer ${change.id}`;
      return undefined;
  }
}

/**
 * Applies one L1 stake change, returning a new registry (the input is not modified). Changes
 * reach the validator set only at the next span boundary: the schedule applies them to its
 * pending registry as blocks commit and derives the next span's set from it at the boundary.
 */
export function applyStakeChange(registry: StakeRegistry, change: StakeChange): StakeRegistry {
  if ("signer" in change) assertAddress(change.signer, "signer");
  if ("signerPubkey" in change && !isHex(change.signerPubkey)) {
    throw invalid("signerPubkey must be hex", { id: change.id });
  }
  if (change.kind === "lock") {
    assertAddress(change.owner, "owner");
    assertAddress(change.rewardRecipient, "rewardRecipient");
  }
  if (change.kind === "rewardRecipientUpdate") assertAddress(change.rewardRecipient, "rewardRecipient");
  const reason = stakeChangeError(registry, change);
  if (reason !== undefined) throw invalid(reason, { change: describe(change) });
  const next = new Map(registry);
  const current = registry.get(change.id);
  switch (change.kind) {
    case "lock":
      next.set(change.id, {
        id: change.id,
        owner: change.owner,
        signer: change.signer,
        signerPubkey: change.signerPubkey,
        locked: change.amount,
        status: "active",
        rewardRecipient: change.rewardRecipient,
      });
      break;
    case "increase":
      next.set(change.id, { ...current!, locked: current!.locked + change.amount });
      break;
    case "withdraw":
      next.set(change.id, { ...current!, locked: current!.locked - change.amount });
      break;
    case "unlockStart":
      next.set(change.id, { ...current!, status: "unlocking" });
      break;
    case "unlockComplete":
      next.delete(change.id);
      break;
    case "signerUpdate":
      next.set(change.id, { ...current!, signer: change.signer, signerPubkey: change.signerPubkey });
      break;
    case "rewardRecipientUpdate":
      next.set(change.id, { ...current!, rewardRecipient: change.rewardRecipient });
      break;
  }
  return next;
}

/** The first change of `changes` that cannot apply in order, with its index; undefined if all can. */
export function stakeChangesError(
  registry: StakeRegistry,
  changes: readonly StakeChange[],
): { index: number; reason: string } | undefined {
  let reg = registry;
  for (let index = 0; index < changes.length; index++) {
    const change = changes[index]!;
    const reason = stakeChangeError(reg, change);
    if (reason !== undefined) return { index, reason };
    try {
      reg = applyStakeChange(reg, change);
    } catch (err) {
      return { index, reason: err instanceof Error ? err.message : String(err) };
    }
  }
  return undefined;
}

function signerTaken(registry: StakeRegistry, signer: string, exceptId: number): boolean {
  for (const r of registry.values()) if (r.signer === signer && r.id !== exceptId) return true;
  return false;
}

function checkRecord(r: StakeRecord): void {
  if (!Number.isSafeInteger(r.id) || r.id < 0)
    throw invalid("id must be a non-negative integer", { id: r.id });
  assertAddress(r.owner, "owner");
  assertAddress(r.signer, "signer");
  assertAddress(r.rewardRecipient, "rewardRecipient");
  if (!isHex(r.signerPubkey)) throw invalid("signerPubkey must be hex", { id: r.id });
  if (r.locked < 0n) throw invalid("locked must not be negative", { id: r.id });
  if (r.status !== "active" && r.status !== "unlocking") throw invalid("unknown status", { id: r.id });
}

function describe(change: StakeChange): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(change)) out[k] = typeof v === "bigint" ? v.toString() : v;
  return out;
}

function invalid(message: string, details: Record<string, unknown>): RotationError {
  return new RotationError(RotationErrorCode.InvalidStakeChange, message, { details });
}
