import { bytesToHex } from "@dseq/common";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { describe, expect, it } from "vitest";
import { proveDleq, verifyDleq } from "./dleq.ts";
import { createPartyKey } from "./identity.ts";
import { ecdhPoint, ecdhWith, openShare, sealShare, shareKey } from "./shareBox.ts";

const sender = createPartyKey();
const recipient = createPartyKey();
const eph = secp256k1.utils.randomSecretKey();
const E = secp256k1.getPublicKey(eph, true);
const ctx = {
  sessionId: bytesToHex(new Uint8Array(32).fill(1)),
  attempt: "0x00" as const,
  from: sender.id,
  to: recipient.id,
};

describe("share boxes", () => {
  it("sender and recipient derive the same key; the box opens only in its own context", () => {
    const kSender = shareKey(ecdhWith(eph)(recipient.publicKey), ctx);
    const kRecipient = shareKey(ecdhWith(recipient.secretKey)(E), ctx);
    expect(kSender).toEqual(kRecipient);
    // The complaint path (noble's full point) yields the same key material.
    expect(shareKey(ecdhPoint(recipient.secretKey, E).subarray(1), ctx)).toEqual(kSender);
    const share = new Uint8Array(32).fill(7);
    const box = sealShare(kSender, ctx, share);
    expect(openShare(kRecipient, ctx, box)).toEqual(share);
    expect(openShare(kRecipient, { ...ctx, to: sender.id }, box)).toBeUndefined();
    expect(openShare(kRecipient, { ...ctx, attempt: "0x01" }, box)).toBeUndefined();
    const tampered = box.slice();
    tampered[15] = (tampered[15] as number) ^ 1;
    expect(openShare(kRecipient, ctx, tampered)).toBeUndefined();
    // Another session id gives another key.
    expect(
      shareKey(ecdhWith(eph)(recipient.publicKey), { ...ctx, sessionId: bytesToHex(new Uint8Array(32)) }),
    ).not.toEqual(kSender);
  });
});

describe("DLEQ proof of a revealed ECDH point", () => {
  it("proves S = x·E for X = x·G, and rejects any other point, base or key", () => {
    const S = ecdhPoint(recipient.secretKey, E);
    const proof = proveDleq(recipient.secretKey, E, S);
    expect(verifyDleq(recipient.publicKey, E, S, proof)).toBe(true);
    const other = createPartyKey();
    expect(verifyDleq(other.publicKey, E, S, proof)).toBe(false);
    expect(verifyDleq(recipient.publicKey, E, ecdhPoint(other.secretKey, E), proof)).toBe(false);
    expect(verifyDleq(recipient.publicKey, other.publicKey, S, proof)).toBe(false);
    // A lie: a wrong point with a proof made for it by someone not holding x.
    const fake = ecdhPoint(other.secretKey, E);
    expect(verifyDleq(recipient.publicKey, E, fake, proveDleq(other.secretKey, E, fake))).toBe(false);
    const bad = proof.slice();
    bad[63] = (bad[63] as number) ^ 1;
    expect(verifyDleq(recipient.publicKey, E, S, bad)).toBe(false);
  });
});
