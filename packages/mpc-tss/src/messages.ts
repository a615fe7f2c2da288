import { bytesToUtf8, type Hex, isHex, utf8ToBytes } from "@dseq/common";
import { isPartyId, type PartyId } from "./identity.ts";

/**
 * Wire messages of the DKG and signing protocols: JSON, byte strings as 0x-hex. Every inbound
 * message is size-limited and shape-checked before a session looks at it; anything else is
 * dropped.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;

/** DKG round 1 (broadcast): FROST commitment + proof of knowledge, and the ephemeral ECDH key. */
export type DkgRound1Msg = {
  t: "dkg/r1";
  sid: Hex;
  /** Attempt: bitmap (over `members`) of the parties excluded so far. */
  att: Hex;
  commitment: Hex[];
  pok: Hex;
  enc: Hex;
  /** Sender's signature over its round-1 digest, so an equivocation can be proven. */
  sig: Hex;
};

/** The signed content of a round-1 message, as echoed or used as evidence. */
export type DkgRound1Body = Pick<DkgRound1Msg, "commitment" | "pok" | "enc" | "sig">;

/** Echo (broadcast, only after a transcript mismatch): the round-1 message we got from `party`. */
export type DkgEchoMsg = { t: "dkg/echo"; sid: Hex; att: Hex; party: PartyId; r1: DkgRound1Body };

/** Proof that `party` signed two different round-1 messages in one attempt. */
export type DkgEquivocationMsg = {
  t: "dkg/equivocation";
  sid: Hex;
  att: Hex;
  party: PartyId;
  first: DkgRound1Body;
  second: DkgRound1Body;
};

/**
 * DKG round 2 (direct): the encrypted share for the recipient, the sender's round-1 transcript
 * hash, the digests of all of its boxes, and its signature over (sid, att, transcript, digests).
 */
export type DkgRound2Msg = {
  t: "dkg/r2";
  sid: Hex;
  att: Hex;
  to: PartyId;
  transcript: Hex;
  box: Hex;
  digests: Hex[];
  sig: Hex;
};

/** Signed confirmation that the sender finished the attempt with this group key. */
export type DkgOkMsg = {
  t: "dkg/ok";
  sid: Hex;
  att: Hex;
  transcript: Hex;
  groupKey: Hex;
  sig: Hex;
};

/** Signed complaint: the accused's signed round-2 box plus the revealed ECDH point and its proof. */
export type DkgComplaintMsg = {
  t: "dkg/complaint";
  sid: Hex;
  att: Hex;
  /** Who complains (the signer of `sig`); complaints are forwarded as evidence by others. */
  accuser: PartyId;
  accused: PartyId;
  r2: Omit<DkgRound2Msg, "t" | "sid" | "att" | "to">;
  shared: Hex;
  proof: Hex;
  sig: Hex;
};

export type NonceCommitmentWire = { nonceId: Hex; hiding: Hex; binding: Hex };

/** Coordinator → everyone: please commit to a nonce for this session. */
export type SignStartMsg = {
  t: "sig/start";
  sid: Hex;
  groupKey: Hex;
};

/** Signer → coordinator: a fresh nonce commitment (persisted before it was sent). */
export type SignCommitMsg = {
  t: "sig/commit";
  sid: Hex;
  commitment: NonceCommitmentWire;
};

/** Coordinator → signer: produce a share for this attempt. Self-contained, so it survives restarts. */
export type SignRequestMsg = {
  t: "sig/request";
  sid: Hex;
  att: number;
  groupKey: Hex;
  message: Hex;
  context: Record<string, unknown>;
  signers: { party: PartyId; commitment: NonceCommitmentWire }[];
};

/** Signer → coordinator: the share, and the next fresh commitment (ROAST). */
export type SignShareMsg = {
  t: "sig/share";
  sid: Hex;
  att: number;
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
  t: "sig/refuse";
  sid: Hex;
  att: number;
  reason: RefuseReason;
  next?: NonceCommitmentWire;
};

/** Coordinator → everyone: the session is over; signers drop its state. */
export type SignDoneMsg = { t: "sig/done"; sid: Hex; signature: Hex };

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

export function encodeMessage(m: TssMessage): Uint8Array {
  return utf8ToBytes(JSON.stringify(m));
}

const hex = (v: unknown, bytes?: number): v is Hex =>
  isHex(v) && (bytes === undefined || (v as string).length === 2 + 2 * bytes);
const hexList = (v: unknown, bytes?: number): v is Hex[] =>
  Array.isArray(v) && v.length <= 1024 && v.every((x) => hex(x, bytes));
const uint = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isR1Body = (v: unknown): v is DkgRound1Body => {
  const b = v as Record<string, unknown> | undefined;
  return (
    typeof b === "object" &&
    b !== null &&
    hexList(b.commitment, 33) &&
    hex(b.pok, 65) &&
    hex(b.enc, 33) &&
    hex(b.sig, 64)
  );
};
const isCommitment = (v: unknown): v is NonceCommitmentWire => {
  const c = v as NonceCommitmentWire;
  return typeof c === "object" && c !== null && hex(c.nonceId, 16) && hex(c.hiding, 33) && hex(c.binding, 33);
};

/** The message, or undefined if it is oversized, not JSON, or not of a known shape. */
export function decodeMessage(data: Uint8Array): TssMessage | undefined {
  if (data.length > MAX_MESSAGE_BYTES) return undefined;
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(bytesToUtf8(data)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof m !== "object" || m === null || !hex(m.sid, 32)) return undefined;
  const ok = ((): boolean => {
    switch (m.t) {
      case "dkg/r1":
        return hex(m.att) && isR1Body(m);
      case "dkg/echo":
        return hex(m.att) && isPartyId(m.party) && isR1Body(m.r1);
      case "dkg/equivocation":
        return hex(m.att) && isPartyId(m.party) && isR1Body(m.first) && isR1Body(m.second);
      case "dkg/r2":
        return (
          hex(m.att) &&
          isPartyId(m.to) &&
          hex(m.transcript, 32) &&
          hex(m.box) &&
          hexList(m.digests, 32) &&
          hex(m.sig, 64)
        );
      case "dkg/ok":
        return hex(m.att) && hex(m.transcript, 32) && hex(m.groupKey, 33) && hex(m.sig, 64);
      case "dkg/complaint": {
        const r2 = m.r2 as Record<string, unknown> | undefined;
        return (
          hex(m.att) &&
          isPartyId(m.accuser) &&
          isPartyId(m.accused) &&
          typeof r2 === "object" &&
          r2 !== null &&
          hex(r2.transcript, 32) &&
          hex(r2.box) &&
          hexList(r2.digests, 32) &&
          hex(r2.sig, 64) &&
          hex(m.shared, 33) &&
          hex(m.proof, 64) &&
          hex(m.sig, 64)
        );
      }
      case "sig/start":
        return hex(m.groupKey, 33);
      case "sig/commit":
        return isCommitment(m.commitment);
      case "sig/request":
        return (
          uint(m.att) &&
          hex(m.groupKey, 33) &&
          hex(m.message) &&
          typeof m.context === "object" &&
          m.context !== null &&
          !Array.isArray(m.context) &&
          Array.isArray(m.signers) &&
          m.signers.length <= 1024 &&
          m.signers.every(
            (s: { party?: unknown; commitment?: unknown }) =>
              isPartyId(s?.party) && isCommitment(s?.commitment),
          )
        );
      case "sig/share":
        return uint(m.att) && hex(m.share, 32) && (m.next === undefined || isCommitment(m.next));
      case "sig/refuse":
        return (
          uint(m.att) &&
          Object.values(RefuseReason).includes(m.reason as RefuseReason) &&
          (m.next === undefined || isCommitment(m.next))
        );
      case "sig/done":
        return hex(m.signature, 65);
      default:
        return false;
    }
  })();
  return ok ? (m as unknown as TssMessage) : undefined;
}
