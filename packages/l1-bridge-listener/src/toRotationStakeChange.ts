import type { L1Event } from "./types.ts";

type Lower = `0x${string}`;

/**
 * sequencer-rotation's `StakeChange`, restated here so this package does not import it (domain
 * packages do not import each other); the node checks the two agree by passing one to the other.
 */
export type RotationStakeChange =
  | {
      readonly kind: "lock";
      readonly id: number;
      readonly owner: Lower;
      readonly signer: Lower;
      readonly signerPubkey: Lower;
      readonly amount: bigint;
      readonly rewardRecipient: Lower;
    }
  | { readonly kind: "increase"; readonly id: number; readonly amount: bigint }
  | { readonly kind: "withdraw"; readonly id: number; readonly amount: bigint }
  | { readonly kind: "unlockStart"; readonly id: number }
  | { readonly kind: "unlockComplete"; readonly id: number }
  | {
      readonly kind: "signerUpdate";
      readonly id: number;
      readonly signer: Lower;
      readonly signerPubkey: Lower;
    }
  | { readonly kind: "rewardRecipientUpdate"; readonly id: number; readonly rewardRecipient: Lower };

const lower = (a: string): Lower => a.toLowerCase() as Lower;

/**
 * The rotation schedule's view of a listener event: undefined for events that do not change the
 * validator set (deposits, batches, key rotations, params, owner changes).
 */
export function toRotationStakeChange(e: L1Event): RotationStakeChange | undefined {
  if (e.type !== "stake") return undefined;
  const id = Number(e.sequencerId);
  if (!Number.isSafeInteger(id)) throw new RangeError(`sequencer id ${e.sequencerId} is not a safe integer`);
  const c = e.change;
  switch (c.kind) {
    case "lock":
      return {
        kind: "lock",
        id,
        owner: lower(c.owner),
        signer: lower(c.signer),
        signerPubkey: lower(c.signerPubkey),
        amount: c.amount,
        rewardRecipient: lower(c.rewardRecipient),
      };
    case "increase":
    case "withdraw":
      return { kind: c.kind, id, amount: c.amount };
    case "unlockStart":
    case "unlockComplete":
      return { kind: c.kind, id };
    case "signerUpdate":
      return { kind: "signerUpdate", id, signer: lower(c.signer), signerPubkey: lower(c.signerPubkey) };
    case "rewardRecipientUpdate":
      return { kind: "rewardRecipientUpdate", id, rewardRecipient: lower(c.rewardRecipient) };
    case "ownerChange":
      return undefined;
  }
}
