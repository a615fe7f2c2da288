import { bytesToUtf8, type Hex, utf8ToBytes } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage } from "./codec.ts";
import type { DkgRound1Body, TssMessage } from "./messages.ts";

const h = (byte: number, n: number): Hex => `0x${byte.toString(16).padStart(2, "0").repeat(n)}`;
const party = (b: number): Hex => `0x02${b.toString(16).padStart(2, "0").repeat(32)}`;
const sid = h(0x11, 32);
const body: DkgRound1Body = {
  commitment: [party(1), party(2)],
  proofOfKnowledge: h(3, 65),
  ephemeralKey: party(4),
  sig: h(5, 64),
};
const commitment = { nonceId: h(6, 16), hiding: party(7), binding: party(8) };
const r2 = { transcript: h(9, 32), box: h(10, 40), digests: [h(11, 32)], sig: h(12, 64) };

/** One message of every kind, in code form. */
const all: TssMessage[] = [
  { type: "dkg/r1", sessionId: sid, attempt: "0x00", ...body },
  { type: "dkg/echo", sessionId: sid, attempt: "0x08", party: party(13), round1: body },
  { type: "dkg/equivocation", sessionId: sid, attempt: "0x00", party: party(13), first: body, second: body },
  { type: "dkg/r2", sessionId: sid, attempt: "0x00", to: party(14), ...r2 },
  {
    type: "dkg/ok",
    sessionId: sid,
    attempt: "0x00",
    transcript: h(9, 32),
    groupKey: party(15),
    sig: h(12, 64),
  },
  {
    type: "dkg/complaint",
    sessionId: sid,
    attempt: "0x00",
    accuser: party(1),
    accused: party(2),
    round2: r2,
    shared: party(16),
    proof: h(17, 64),
    sig: h(18, 64),
  },
  { type: "sig/start", sessionId: sid, groupKey: party(15) },
  { type: "sig/commit", sessionId: sid, commitment },
  {
    type: "sig/request",
    sessionId: sid,
    attempt: 2,
    groupKey: party(15),
    message: h(19, 32),
    context: { type: "batch", sid: 7, att: "kept as is" },
    signers: [{ party: party(1), commitment }],
  },
  { type: "sig/share", sessionId: sid, attempt: 2, share: h(20, 32), next: commitment },
  { type: "sig/refuse", sessionId: sid, attempt: 2, reason: "nonce" },
  { type: "sig/done", sessionId: sid, signature: h(21, 65) },
];

describe("codec", () => {
  it("every message kind survives encode then decode unchanged", () => {
    for (const m of all) expect(decodeMessage(encodeMessage(m))).toEqual(m);
  });

  it("the wire carries only the terse names, in the fixed order", () => {
    const r1 = JSON.parse(bytesToUtf8(encodeMessage(all[0] as TssMessage)));
    expect(Object.keys(r1)).toEqual(["t", "sid", "att", "commitment", "pok", "enc", "sig"]);
    const echo = JSON.parse(bytesToUtf8(encodeMessage(all[1] as TssMessage)));
    expect(Object.keys(echo.r1)).toEqual(["commitment", "pok", "enc", "sig"]);
    const complaint = JSON.parse(bytesToUtf8(encodeMessage(all[5] as TssMessage)));
    expect(Object.keys(complaint)).toEqual([
      "t",
      "sid",
      "att",
      "accuser",
      "accused",
      "r2",
      "shared",
      "proof",
      "sig",
    ]);
    const request = JSON.parse(bytesToUtf8(encodeMessage(all[8] as TssMessage)));
    expect(Object.keys(request)).toEqual(["t", "sid", "att", "groupKey", "message", "context", "signers"]);
    // The coordinator's context is opaque: its keys are never renamed.
    expect(request.context).toEqual({ type: "batch", sid: 7, att: "kept as is" });
  });

  it("decodes the terse JSON form that peers send", () => {
    const json = `{"t":"sig/start","sid":"${sid}","groupKey":"${party(15)}"}`;
    expect(decodeMessage(utf8ToBytes(json))).toEqual({
      type: "sig/start",
      sessionId: sid,
      groupKey: party(15),
    });
  });

  it("drops oversized, non-JSON, long-named and malformed input", () => {
    expect(decodeMessage(new Uint8Array(256 * 1024 + 1))).toBeUndefined();
    expect(decodeMessage(utf8ToBytes("not json"))).toBeUndefined();
    const longNamed = JSON.stringify({ type: "sig/start", sessionId: sid, groupKey: party(15) });
    expect(decodeMessage(utf8ToBytes(longNamed))).toBeUndefined();
    const badPok = JSON.parse(bytesToUtf8(encodeMessage(all[0] as TssMessage)));
    badPok.pok = h(3, 64);
    expect(decodeMessage(utf8ToBytes(JSON.stringify(badPok)))).toBeUndefined();
  });
});
