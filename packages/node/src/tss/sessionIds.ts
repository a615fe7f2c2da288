import { bytesToHex, concatBytes, type Hex, hexToBytes, uintToBytes, utf8ToBytes } from "@dseq/common";
import type { PartyId } from "@dseq/mpc-tss";
import { sha256 } from "./hash.ts";
import { canonicalValidators, type TssValidator } from "./votingPower.ts";

/**
 * The DKG session id every member derives for a span's new set: bound to the L2 chain id, the
 * span, the set (parties and powers) and the attempt (a failed DKG is retried under a new id).
 */
export function tssDkgSessionId(
  chainId: bigint,
  span: bigint,
  validators: readonly TssValidator[],
  attempt: number,
): Hex {
  const set = canonicalValidators(validators).flatMap((v) => [hexToBytes(v.party), uintToBytes(v.power, 32)]);
  return bytesToHex(
    sha256(
      concatBytes(
        utf8ToBytes("dseq/node/tss-dkg/v1"),
        uintToBytes(chainId, 32),
        uintToBytes(span, 8),
        uintToBytes(attempt, 4),
        ...set,
      ),
    ),
  );
}

/** A signing session's id: one per (group key, digest, coordinator), so a retry reuses it. */
export function tssSignSessionId(groupKey: Hex, digest: Uint8Array, coordinator: PartyId): Hex {
  return bytesToHex(
    sha256(
      concatBytes(
        utf8ToBytes("dseq/node/tss-sign/v1"),
        hexToBytes(groupKey),
        digest,
        hexToBytes(coordinator),
      ),
    ),
  );
}
