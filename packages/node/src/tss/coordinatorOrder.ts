import { concatBytes, hexToBytes } from "@dseq/common";
import type { PartyId } from "@dseq/mpc-tss";
import { sha256 } from "./hash.ts";

/**
 * The order in which members coordinate the signing of one digest: `leader` (the span
 * sequencer) first when it holds a share, then every other participant ordered by
 * sha256(digest || party), so each digest has its own fallback order and every node computes
 * the same one. Pure.
 */
export function coordinatorOrder(
  participants: readonly PartyId[],
  digest: Uint8Array,
  leader?: PartyId,
): PartyId[] {
  const lead = leader?.toLowerCase() as PartyId | undefined;
  const rank = (p: PartyId): string =>
    Buffer.from(sha256(concatBytes(digest, hexToBytes(p)))).toString("hex");
  const rest = participants
    .map((p) => p.toLowerCase() as PartyId)
    .filter((p) => p !== lead)
    .map((p) => ({ p, r: rank(p) }))
    .sort((a, b) => (a.r < b.r ? -1 : a.r > b.r ? 1 : 0))
    .map((x) => x.p);
  return lead !== undefined && participants.some((p) => p.toLowerCase() === lead) ? [lead, ...rest] : rest;
}

/** When `party` takes over as coordinator: its position times the fallback slot (0 = at once). */
export function coordinatorDelayMs(
  order: readonly PartyId[],
  party: PartyId,
  slotMs: number,
): number | undefined {
  const i = order.indexOf(party.toLowerCase() as PartyId);
  return i < 0 ? undefined : i * slotMs;
}
