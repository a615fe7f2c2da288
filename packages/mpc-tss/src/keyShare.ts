import { bytesToHex, type Hex, hexToBytes } from "@dseq/common";
import type { FrostPublic, FrostSecret } from "@noble/curves/abstract/frost.js";
import type { TArg } from "@noble/curves/utils.js";
import type { PartyId } from "./identity.ts";

/** The public outcome of a DKG: what every member (and any verifier) knows about the group. */
export type GroupInfo = {
  /** Validator-set epoch the key belongs to. */
  epoch: number;
  /** DKG session that produced it. */
  sessionId: Hex;
  /** The full validator set the DKG ran for, in canonical order. */
  members: PartyId[];
  /** Members that hold a share (members minus those excluded as culprits). */
  participants: PartyId[];
  threshold: number;
  /** Group public key, compressed (33 bytes). */
  groupKey: Hex;
  /** Summed VSS commitments; commitments[0] is the group key. */
  commitments: Hex[];
  /** Each participant's verifying share (its public share), compressed. */
  verifyingShares: Record<PartyId, Hex>;
  /** Each participant's FROST identifier (hex scalar, no 0x), fixed by its index in `members`. */
  identifiers: Record<PartyId, string>;
};

/** One party's share of a group key. `signingShare` is secret: never log or send it. */
export type KeyShare = {
  group: GroupInfo;
  self: PartyId;
  identifier: string;
  signingShare: Uint8Array;
};

export function toFrostPublic(g: GroupInfo): TArg<FrostPublic> {
  const verifyingShares: Record<string, Uint8Array> = {};
  for (const p of g.participants) {
    const id = g.identifiers[p];
    const vs = g.verifyingShares[p];
    if (id && vs) verifyingShares[id] = hexToBytes(vs);
  }
  return {
    signers: { min: g.threshold, max: g.participants.length },
    commitments: g.commitments.map((c) => hexToBytes(c)),
    verifyingShares,
  };
}

export function toFrostSecret(s: KeyShare): TArg<FrostSecret> {
  return { identifier: s.identifier, signingShare: s.signingShare.slice() };
}

/** GroupInfo from noble's DKG output plus the session's bookkeeping. */
export function groupInfoFromFrost(
  pub: TArg<FrostPublic>,
  meta: Pick<GroupInfo, "epoch" | "sessionId" | "members" | "participants" | "threshold" | "identifiers">,
): GroupInfo {
  const byIdent = new Map(Object.entries(meta.identifiers).map(([p, id]) => [id, p as PartyId]));
  const verifyingShares: Record<PartyId, Hex> = {};
  for (const [id, vs] of Object.entries(pub.verifyingShares)) {
    const p = byIdent.get(id);
    if (p) verifyingShares[p] = bytesToHex(vs);
  }
  const commitments = pub.commitments.map((c) => bytesToHex(c));
  return { ...meta, groupKey: commitments[0] as Hex, commitments, verifyingShares };
}
