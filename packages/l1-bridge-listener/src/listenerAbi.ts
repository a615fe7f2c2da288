import { BatchInboxArtifact, DepositBridgeArtifact, LockingPoolArtifact } from "@dseq/l1-contracts";
import type { AbiEvent } from "viem";

/** LockingPool events that become listener events (Withdraw is folded into LockUpdate's delta). */
export const lockingPoolEventNames = [
  "Locked",
  "LockUpdate",
  "UnlockInit",
  "Unlocked",
  "SignerChange",
  "RewardRecipientChanged",
  "OwnerChanged",
  "ParamsChanged",
] as const;
export const depositBridgeEventNames = ["DepositInitiated"] as const;
export const batchInboxEventNames = ["BatchAppended", "GroupKeyRotated"] as const;

function pick(abi: readonly unknown[], names: readonly string[]): AbiEvent[] {
  const out = (abi as AbiEvent[]).filter((x) => x.type === "event" && names.includes(x.name));
  if (out.length !== names.length) throw new Error(`ABI lacks events ${names.join(", ")}`);
  return out;
}

/** The ABI items `getLogs` filters and decodes by: the topic-0 set of one eth_getLogs call. */
export const listenerEventAbi: readonly AbiEvent[] = [
  ...pick(LockingPoolArtifact.abi, lockingPoolEventNames),
  ...pick(DepositBridgeArtifact.abi, depositBridgeEventNames),
  ...pick(BatchInboxArtifact.abi, batchInboxEventNames),
];
