import { bytesToHex, concatBytes, type Hex, hexToBytes, uintToBytes, utf8ToBytes } from "@dseq/common";
import { type PartyId, sha256, sortMembers } from "../identity.ts";
import type { DkgComplaintMsg, DkgRound1Body } from "../messages.ts";

/**
 * What DKG parties sign and hash, as pure functions of the message contents. The core uses
 * them to sign and check; tests use them to build misbehaving messages that honest parties
 * must see through.
 */

/** Domains of `signStatement` in the DKG. */
export const DkgStatement = {
  Round1: "dkg-r1",
  Round2: "dkg-r2",
  Complaint: "dkg-complaint",
  Ok: "dkg-ok",
} as const;

/** The session id all members derive for (epoch, set). */
export function dkgSessionId(epoch: number, members: readonly PartyId[]): Hex {
  const sorted = sortMembers(members);
  return bytesToHex(
    sha256(
      utf8ToBytes("dseq/tss/dkg-session/v1"),
      uintToBytes(epoch, 8),
      ...sorted.map((m) => hexToBytes(m)),
    ),
  );
}

export function round1Digest(party: PartyId, m: DkgRound1Body): Uint8Array {
  return sha256(
    hexToBytes(party),
    uintToBytes(m.commitment.length, 2),
    ...m.commitment.map((c) => hexToBytes(c)),
    hexToBytes(m.proofOfKnowledge),
    hexToBytes(m.ephemeralKey),
  );
}

export function round1Payload(sessionId: Hex, attempt: Hex, party: PartyId, m: DkgRound1Body): Uint8Array {
  return concatBytes(hexToBytes(sessionId), hexToBytes(attempt), round1Digest(party, m));
}

/** The hash of an attempt's whole round 1 (digests in `active` order). */
export function transcriptHash(sessionId: Hex, attempt: Hex, digests: Uint8Array[]): Uint8Array {
  return sha256(
    utf8ToBytes("dseq/tss/dkg-transcript/v1"),
    hexToBytes(sessionId),
    hexToBytes(attempt),
    ...digests,
  );
}

export function round2Payload(
  sessionId: Hex,
  attempt: Hex,
  from: PartyId,
  transcript: Uint8Array,
  digests: Uint8Array[],
): Uint8Array {
  return concatBytes(hexToBytes(sessionId), hexToBytes(attempt), hexToBytes(from), transcript, ...digests);
}

export function complaintPayload(
  sessionId: Hex,
  attempt: Hex,
  accused: PartyId,
  r2: DkgComplaintMsg["round2"],
  shared: Uint8Array,
  proof: Uint8Array,
): Uint8Array {
  return concatBytes(
    hexToBytes(sessionId),
    hexToBytes(attempt),
    hexToBytes(accused),
    hexToBytes(r2.transcript),
    sha256(hexToBytes(r2.box)),
    ...r2.digests.map((d) => hexToBytes(d)),
    hexToBytes(r2.sig),
    shared,
    proof,
  );
}

export function okPayload(
  sessionId: Hex,
  attempt: Hex,
  transcript: Uint8Array,
  groupKey: Uint8Array,
): Uint8Array {
  return concatBytes(hexToBytes(sessionId), hexToBytes(attempt), transcript, groupKey);
}

/** Attempt id: the bitmap (over the sorted members) of the parties excluded so far, even-length hex. */
export function attemptId(mask: bigint): Hex {
  const h = mask.toString(16);
  return `0x${h.length % 2 ? `0${h}` : h}`;
}
