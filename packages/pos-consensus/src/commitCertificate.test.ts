import { describe, expect, it } from "vitest";
import {
  CHAIN_ID,
  certificateOf,
  makeBlock,
  makeValidators,
  signProposal,
  signVote,
} from "../test/fixtures.ts";
import { verifyCommitCertificate } from "./commitCertificate.ts";
import { conflictingCommitEvidence, verifyEvidence } from "./evidence.ts";
import { verifySignature } from "./signer.ts";
import { MsgType } from "./types.ts";

const tv = makeValidators(4);
const A = makeBlock("cert A");
const B = makeBlock("cert B");
const check = (c: Parameters<typeof verifyCommitCertificate>[0]) =>
  verifyCommitCertificate(c, tv.set, CHAIN_ID, verifySignature);

describe("commit certificates", () => {
  it("verify with +2/3 of the power, and only then", () => {
    expect(check(certificateOf(tv, [0, 1, 2], 9, 2, A.hash))).toEqual({ ok: true, power: 3 });
    expect(check(certificateOf(tv, [0, 1], 9, 2, A.hash))).toEqual({ ok: false, reason: "noQuorum" });
  });

  it("reject a duplicated signer, an unknown validator, a signature for something else", () => {
    const c = certificateOf(tv, [0, 1, 2], 9, 2, A.hash);
    expect(check({ ...c, signatures: [...c.signatures.slice(0, 2), c.signatures[0]!] })).toMatchObject({
      ok: false,
      reason: "duplicateSigner",
    });
    const stranger = makeValidators(1, 77);
    const foreign = certificateOf(stranger, [0], 9, 2, A.hash).signatures[0]!;
    expect(check({ ...c, signatures: [...c.signatures, foreign] })).toMatchObject({
      ok: false,
      reason: "unknownValidator",
    });
    expect(check({ ...c, blockHash: B.hash })).toMatchObject({ ok: false, reason: "badSignature" });
    expect(check({ ...c, round: 3 })).toMatchObject({ ok: false, reason: "badSignature" });
  });
});

describe("evidence", () => {
  it("conflicting certificates name the validators that signed both, with checkable duplicate votes", () => {
    const a = certificateOf(tv, [0, 1, 2], 4, 0, A.hash);
    const b = certificateOf(tv, [1, 2, 3], 4, 0, B.hash);
    const evs = conflictingCommitEvidence(a, b);
    expect(evs[0]).toMatchObject({
      type: "conflictingCommit",
      validators: [tv.addresses[1], tv.addresses[2]].sort(),
    });
    expect(
      evs
        .filter((e) => e.type === "duplicateVote")
        .map((e) => (e.type === "duplicateVote" ? e.validator : "")),
    ).toEqual([tv.addresses[1], tv.addresses[2]]);
    for (const e of evs) expect(verifyEvidence(e, tv.set, CHAIN_ID, verifySignature)).toBe(true);
  });

  it("made-up evidence does not verify", () => {
    const a = signVote(tv.keys[1]!, tv.addresses[1]!, MsgType.Prevote, 4, 0, A.hash);
    const b = signVote(tv.keys[1]!, tv.addresses[1]!, MsgType.Prevote, 4, 0, B.hash);
    const other = signVote(tv.keys[2]!, tv.addresses[2]!, MsgType.Prevote, 4, 0, B.hash);
    const ok = { type: "duplicateVote" as const, validator: tv.addresses[1]!, a, b };
    expect(verifyEvidence(ok, tv.set, CHAIN_ID, verifySignature)).toBe(true);
    // Same value twice is no conflict; someone else's vote is no proof; a forged signature fails.
    expect(verifyEvidence({ ...ok, b: a }, tv.set, CHAIN_ID, verifySignature)).toBe(false);
    expect(
      verifyEvidence(
        { ...ok, b: { ...other, validator: tv.addresses[1]! } },
        tv.set,
        CHAIN_ID,
        verifySignature,
      ),
    ).toBe(false);
    const pa = signProposal(tv.keys[1]!, tv.addresses[1]!, 4, 0, -1, A.hash);
    const pb = signProposal(tv.keys[1]!, tv.addresses[1]!, 4, 0, -1, B.hash);
    const prop = { type: "conflictingProposal" as const, validator: tv.addresses[1]!, a: pa, b: pb };
    expect(verifyEvidence(prop, tv.set, CHAIN_ID, verifySignature)).toBe(true);
    expect(verifyEvidence({ ...prop, b: { ...pb, round: 1 } }, tv.set, CHAIN_ID, verifySignature)).toBe(
      false,
    );
  });
});
