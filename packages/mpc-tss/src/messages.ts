import type { Hex } from "@dseq/common";
import type { PartyId } from "./identity.ts";

/**
 * Messages of the DKG and signing protocols as the code sees them: long field names.
 * `codec.ts` turns them into the terse wire form (`t`, `sid`, `att`, `enc`, `pok`, `r1`, `r2`)
 * and back; no other file knows the wire names.
 */

export const MAX_MESSAGE_BYTES = 256 * 1024;

/** DKG round 1 (broadcast): FROST commitment + proof of knowledge, and the ephemeral ECDH key. */
export type DkgRound1Msg = {
  type: "dkg/r1";
  sessionId: Hex;
  /** Attempt: bitmap (over `members`) of the parties excluded so far. */
  attempt: Hex;
  commitment: Hex[];
  proofOfKnowledge: Hex;
  ephemeralKey: Hex;
  /** Sender's signature over its round-1 digest, so an equivocation can be proven. */
  sig: Hex;
};

/** The signed content of a round-1 message, as echoed or used as evidence. */
export type DkgRound1Body = Pick<DkgRound1Msg, "commitment" | "proofOfKnowledge" | "ephemeralKey" | "sig">;

/** Echo (broadcast, only after a transcript mismatch): the round-1 message we got from `party`. */
export type DkgEchoMsg = {
  type: "dkg/echo";
  sessionId: Hex;
  attempt: Hex;
  party: PartyId;
  round1: DkgRound1Body;
};

/** Proof that `party` signed two different round-1 messages in one attempt. */
export type DkgEquivocationMsg = {
  type: "dkg/equivocation";
  sessionId: Hex;
  attempt: Hex;
  party: PartyId;
  first: DkgRound1Body;
  second: DkgRound1Body;
};

/**
 * DKG round 2 (direct): the encrypted share for the recipient, the sender's round-1 transcript
 * hash, the digests of all of its boxes, and its signature over (session, attempt, transcript, digests).
 */
export type DkgRound2Msg = {
  type: "dkg/r2";
  sessionId: Hex;
  attempt: Hex;
  to: PartyId;
  transcript: Hex;
  box: Hex;
  digests: Hex[];
  sig: Hex;
};

/** Signed confirmation that the sender finished the attempt with this group key. */
export type DkgOkMsg = {
  type: "dkg/ok";
  sessionId: Hex;
  attempt: Hex;
  transcript: Hex;
  groupKey: Hex;
  sig: Hex;
};

/** Signed complaint: the accused's signed round-2 box plus the revealed ECDH point and its proof. */
export type DkgComplaintMsg = {
  type: "dkg/complaint";
  sessionId: Hex;
  attempt: Hex;
  /** Who complains (the signer of `sig`); complaints are forwarded as evidence by others. */
  accuser: PartyId;
  accused: PartyId;
  round2: Omit<DkgRound2Msg, "type" | "sessionId" | "attempt" | "to">;
  shared: Hex;
  proof: Hex;
  sig: Hex;
};

export type NonceCommitmentWire = { nonceId: Hex; hiding: Hex; binding: Hex };

/** Coordinator → everyone: please commit to a nonce for this session. */
export type SignStartMsg = {
  type: "sig/start";
  sessionId: Hex;
  groupKey: Hex;
};

/** Signer → coordinator: a fresh nonce commitment (persisted before it was sent). */
export type SignCommitMsg = {
  type: "sig/commit";
  sessionId: Hex;
  commitment: NonceCommitmentWire;
};

/** Coordinator → signer: produce a share for this attempt. Self-contained, so it survives restarts. */
export type SignRequestMsg = {
  type: "sig/request";
  sessionId: Hex;
  attempt: number;
  groupKey: Hex;
  message: Hex;
  context: Record<string, unknown>;
  signers: { party: PartyId; commitment: NonceCommitmentWire }[];
};

/** Signer → coordinator: the share, and the next fresh commitment (ROAST). */
export type SignShareMsg = {
  type: "sig/share";
  sessionId: Hex;
  attempt: number;
  share: Hex;
  next?: NonceCommitmentWire;
};

export const RefuseReason = {
  Policy: "policy",
  Nonce: "nonce",
  UnknownKey: "unknown-key",
  BadRequest: "bad-request",
} as const;
export type RefuseReason = (typeof RefuseReason)[keyof typeof RefuseReason];

/** Signer → coordinator: no share for this attempt; `next` when it can still take part. */
export type SignRefuseMsg = {
  type: "sig/refuse";
  sessionId: Hex;
  attempt: number;
  reason: RefuseReason;
  next?: NonceCommitmentWire;
};

/** Coordinator → everyone: the session is over; signers drop its state. */
export type SignDoneMsg = { type: "sig/done"; sessionId: Hex; signature: Hex };

export type TssMessage =
  | DkgRound1Msg
  | DkgRound2Msg
  | DkgOkMsg
  | DkgComplaintMsg
  | DkgEchoMsg
  | DkgEquivocationMsg
  | SignStartMsg
  | SignCommitMsg
  | SignRequestMsg
  | SignShareMsg
  | SignRefuseMsg
  | SignDoneMsg;
