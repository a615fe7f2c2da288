import { bytesToUtf8, type Hex, isHex, utf8ToBytes } from "@dseq/common";
import { isPartyId } from "./identity.ts";
import {
  type DkgRound1Body,
  MAX_MESSAGE_BYTES,
  type NonceCommitmentWire,
  RefuseReason,
  type TssMessage,
} from "./messages.ts";

/**
 * The wire form of `TssMessage`: JSON, byte strings as 0x-hex, terse field names (`t` type,
 * `sid` session id, `att` attempt, `pok` proof of knowledge, `enc` ephemeral ECDH key, `r1`/`r2`
 * the embedded round-1 body / round-2 box). The names exist only here: `encodeMessage` writes
 * them from the long names, `decodeMessage` checks size and shape and gives the long names back.
 * Field order on the wire is fixed, so the bytes are those of the earlier JSON form.
 */
type Wire = Record<string, unknown>;

const r1BodyToWire = (b: DkgRound1Body): Wire => ({
  commitment: b.commitment,
  pok: b.proofOfKnowledge,
  enc: b.ephemeralKey,
  sig: b.sig,
});
const r1BodyFromWire = (w: Wire): DkgRound1Body => ({
  commitment: w.commitment as Hex[],
  proofOfKnowledge: w.pok as Hex,
  ephemeralKey: w.enc as Hex,
  sig: w.sig as Hex,
});

function toWire(m: TssMessage): Wire {
  switch (m.type) {
    case "dkg/r1":
      return { t: m.type, sid: m.sessionId, att: m.attempt, ...r1BodyToWire(m) };
    case "dkg/echo":
      return { t: m.type, sid: m.sessionId, att: m.attempt, party: m.party, r1: r1BodyToWire(m.round1) };
    case "dkg/equivocation":
      return {
        t: m.type,
        sid: m.sessionId,
        att: m.attempt,
        party: m.party,
        first: r1BodyToWire(m.first),
        second: r1BodyToWire(m.second),
      };
    case "dkg/r2": {
      const { type, sessionId, attempt, ...rest } = m;
      return { t: type, sid: sessionId, att: attempt, ...rest };
    }
    case "dkg/ok": {
      const { type, sessionId, attempt, ...rest } = m;
      return { t: type, sid: sessionId, att: attempt, ...rest };
    }
    case "dkg/complaint":
      return {
        t: m.type,
        sid: m.sessionId,
        att: m.attempt,
        accuser: m.accuser,
        accused: m.accused,
        r2: m.round2,
        shared: m.shared,
        proof: m.proof,
        sig: m.sig,
      };
    case "sig/start":
    case "sig/commit":
    case "sig/done": {
      const { type, sessionId, ...rest } = m;
      return { t: type, sid: sessionId, ...rest };
    }
    case "sig/request":
    case "sig/share":
    case "sig/refuse": {
      const { type, sessionId, attempt, ...rest } = m;
      return { t: type, sid: sessionId, att: attempt, ...rest };
    }
  }
}

function fromWire(w: Wire): TssMessage {
  const { t, sid, att, ...rest } = w;
  switch (t) {
    case "dkg/r1":
      return { type: t, sessionId: sid as Hex, attempt: att as Hex, ...r1BodyFromWire(w) };
    case "dkg/echo":
      return {
        type: t,
        sessionId: sid as Hex,
        attempt: att as Hex,
        party: w.party as Hex,
        round1: r1BodyFromWire(w.r1 as Wire),
      };
    case "dkg/equivocation":
      return {
        type: t,
        sessionId: sid as Hex,
        attempt: att as Hex,
        party: w.party as Hex,
        first: r1BodyFromWire(w.first as Wire),
        second: r1BodyFromWire(w.second as Wire),
      };
    case "dkg/complaint": {
      const { r2, ...others } = rest;
      return { type: t, sessionId: sid, attempt: att, ...others, round2: r2 } as TssMessage;
    }
    default:
      // The remaining kinds carry no other terse names.
      return (att === undefined
        ? { type: t, sessionId: sid, ...rest }
        : { type: t, sessionId: sid, attempt: att, ...rest }) as unknown as TssMessage;
  }
}

export function encodeMessage(m: TssMessage): Uint8Array {
  return utf8ToBytes(JSON.stringify(toWire(m)));
}

const hex = (v: unknown, bytes?: number): v is Hex =>
  isHex(v) && (bytes === undefined || (v as string).length === 2 + 2 * bytes);
const hexList = (v: unknown, bytes?: number): v is Hex[] =>
  Array.isArray(v) && v.length <= 1024 && v.every((x) => hex(x, bytes));
const uint = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isR1Body = (v: unknown): boolean => {
  const b = v as Wire | undefined;
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

/** Whether a parsed wire object has the shape of a known message (terse names). */
function isWireShape(m: Wire): boolean {
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
      const r2 = m.r2 as Wire | undefined;
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
}

/** The message, or undefined if it is oversized, not JSON, or not of a known shape. */
export function decodeMessage(data: Uint8Array): TssMessage | undefined {
  if (data.length > MAX_MESSAGE_BYTES) return undefined;
  let m: Wire;
  try {
    m = JSON.parse(bytesToUtf8(data)) as Wire;
  } catch {
    return undefined;
  }
  if (typeof m !== "object" || m === null || !hex(m.sid, 32)) return undefined;
  return isWireShape(m) ? fromWire(m) : undefined;
}
