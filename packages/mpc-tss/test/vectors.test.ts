import { readFileSync } from "node:fs";
import { bytesToHex, concatBytes, hexToBytes } from "@dseq/common";
import { vectorsPath } from "@dseq/common/vectors";
import type { DKG_Secret } from "@noble/curves/abstract/frost.js";
import { secp256k1, secp256k1_hasher } from "@noble/curves/secp256k1.js";
import type { TArg } from "@noble/curves/utils.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { describe, expect, it } from "vitest";
import { isProofOfKnowledgeValid, isShareValid } from "../src/dkg/proofs.ts";
import { fastFrost } from "../src/fastFrost.ts";
import {
  CHALLENGE_DST,
  l1Challenge,
  l1CompactSignatureBytes,
  l1EcrecoverInputs,
  l1SignatureBytes,
  toL1Signature,
  verifyL1Signature,
} from "../src/l1.ts";
import { Fn, frost } from "../src/suite.ts";

const h = (s: string): Uint8Array => hexToBytes(`0x${s}`);
const id = (n: number | string): string => frost.Identifier.fromNumber(Number(n));

type SigningVector = {
  inputs: {
    participant_list: number[];
    group_public_key?: string;
    verifying_key_key?: string;
    message: string;
    participant_shares: { identifier: number; participant_share: string }[];
  };
  round_one_outputs: {
    outputs: {
      identifier: number;
      hiding_nonce_randomness: string;
      binding_nonce_randomness: string;
      hiding_nonce: string;
      binding_nonce: string;
      hiding_nonce_commitment: string;
      binding_nonce_commitment: string;
    }[];
  };
  round_two_outputs: { outputs: { identifier: number; sig_share: string }[] };
  final_output: { sig: string };
};

/** The signing operations under test: noble's reference and our libsecp256k1 hot paths. */
const impls = [
  ["noble", frost],
  ["fastFrost", fastFrost],
] as const;

function checkSigningVector(v: SigningVector, impl: (typeof impls)[number][1] = frost): void {
  const gpk = h((v.inputs.group_public_key ?? v.inputs.verifying_key_key) as string);
  const msg = h(v.inputs.message);
  const max = v.inputs.participant_shares.length;
  const verifyingShares: Record<string, Uint8Array> = {};
  for (const s of v.inputs.participant_shares) {
    verifyingShares[id(s.identifier)] = secp256k1.getPublicKey(h(s.participant_share), true);
  }
  const group = { signers: { min: 2, max }, commitments: [gpk], verifyingShares };
  const secrets = new Map(
    v.inputs.participant_shares.map((s) => [
      s.identifier,
      { identifier: id(s.identifier), signingShare: h(s.participant_share) },
    ]),
  );
  const commits = v.round_one_outputs.outputs.map((o) => {
    const rand = [h(o.hiding_nonce_randomness), h(o.binding_nonce_randomness)];
    const c = impl.commit(secrets.get(o.identifier)!, () => rand.shift()!);
    expect(bytesToHex(c.nonces.hiding)).toBe(`0x${o.hiding_nonce}`);
    expect(bytesToHex(c.nonces.binding)).toBe(`0x${o.binding_nonce}`);
    expect(bytesToHex(c.commitments.hiding)).toBe(`0x${o.hiding_nonce_commitment}`);
    expect(bytesToHex(c.commitments.binding)).toBe(`0x${o.binding_nonce_commitment}`);
    return { identifier: o.identifier, ...c };
  });
  const list = commits.map((c) => c.commitments);
  const shares: Record<string, Uint8Array> = {};
  for (const c of commits) {
    const z = impl.signShare(secrets.get(c.identifier)!, group, c.nonces, list, msg);
    const want = v.round_two_outputs.outputs.find((o) => o.identifier === c.identifier)!;
    expect(bytesToHex(z)).toBe(`0x${want.sig_share}`);
    expect(impl.verifyShare(group, list, msg, id(c.identifier), z)).toBe(true);
    shares[id(c.identifier)] = z;
  }
  const sig = impl.aggregate(group, list, msg, shares);
  expect(bytesToHex(sig)).toBe(`0x${v.final_output.sig}`);
  expect(frost.verify(sig, msg, gpk)).toBe(true);

  // The L1 form of the same signature: the challenge spelled out with sha256 equals noble's
  // H2, the equation holds from the words alone, and the ecrecover recipe yields R.
  const l1 = toL1Signature(sig, gpk);
  const c = l1Challenge(l1, msg);
  const nobleC = secp256k1_hasher.hashToScalar(concatBytes(sig.subarray(0, 33), gpk, msg), {
    DST: new TextEncoder().encode(CHALLENGE_DST),
  });
  expect(BigInt(c)).toBe(nobleC);
  expect(verifyL1Signature(l1, msg)).toBe(true);
  // the 96-byte inbox form is the first three words of the 160-byte one: R affine, then z
  const compact = l1CompactSignatureBytes(l1);
  expect(compact.length).toBe(96);
  expect(bytesToHex(compact)).toBe(bytesToHex(l1SignatureBytes(l1).subarray(0, 96)));
  expect(bytesToHex(compact.subarray(64))).toBe(bytesToHex(sig.subarray(33)));
  expect(secp256k1.Point.fromAffine({ x: BigInt(l1.rx), y: BigInt(l1.ry) }).toBytes(true)).toEqual(
    sig.subarray(0, 33),
  );
  expect(verifyL1Signature({ ...l1, z: bytesToHex(Fn.toBytes(Fn.add(BigInt(l1.z), 1n))) }, msg)).toBe(false);
  expect(verifyL1Signature(l1, concatBytes(msg, new Uint8Array([0])))).toBe(false);
  const e = l1EcrecoverInputs(l1, msg);
  const recovered = new secp256k1.Signature(BigInt(e.r), BigInt(e.s), e.v - 27).recoverPublicKey(
    hexToBytes(e.h),
  );
  const addr = (x: string, y: string): string =>
    bytesToHex(keccak_256(concatBytes(hexToBytes(x), hexToBytes(y))).subarray(12));
  const rAff = recovered.toAffine();
  const pad = (n: bigint): string => `0x${n.toString(16).padStart(64, "0")}`;
  expect(addr(pad(rAff.x), pad(rAff.y))).toBe(addr(l1.rx, l1.ry));
}

const rfcPath = vectorsPath("frost/rfc9591-frost-secp256k1-sha256.cfrg.json");
const zfPath = vectorsPath("frost/zf-secp256k1-vectors.json");
const zfDkgPath = vectorsPath("frost/zf-secp256k1-vectors_dkg.json");
const zfBigPath = vectorsPath("frost/zf-secp256k1-vectors-big-identifier.json");

describe.skipIf(!rfcPath)("[vectors] RFC 9591 Appendix E.5 FROST(secp256k1, SHA-256)", () => {
  it("nonces, commitments, shares and the signature match; the L1 form verifies", () => {
    for (const [, impl] of impls) {
      checkSigningVector(JSON.parse(readFileSync(rfcPath as string, "utf8")) as SigningVector, impl);
    }
  });
});

describe.skipIf(!zfPath)("[vectors] ZF frost-secp256k1 signing vectors", () => {
  it("match noble and verify in L1 form", () => {
    for (const [, impl] of impls) {
      checkSigningVector(JSON.parse(readFileSync(zfPath as string, "utf8")) as SigningVector, impl);
    }
  });
});

describe.skipIf(!zfBigPath)("[vectors] ZF frost-secp256k1 signing vectors with large identifiers", () => {
  it("match noble and verify in L1 form", () => {
    for (const [, impl] of impls) {
      checkSigningVector(JSON.parse(readFileSync(zfBigPath as string, "utf8")) as SigningVector, impl);
    }
  });
});

type DkgParticipant = {
  identifier: number;
  signing_key: string;
  coefficient: string;
  vss_commitments: string[];
  proof_of_knowledge: string;
  signing_shares: Record<string, string>;
  verifying_share: string;
  signing_share: string;
};

describe.skipIf(!zfDkgPath)("[vectors] ZF frost-secp256k1 DKG vectors", () => {
  // Read in the tests, not here: vitest runs describe bodies while collecting, even skipped ones,
  // so a read here fails a clone without the vectors folder.
  const load = () => {
    const v = JSON.parse(readFileSync(zfDkgPath as string, "utf8")) as {
      config: { MIN_PARTICIPANTS: number; MAX_PARTICIPANTS: number };
      inputs: Record<string, DkgParticipant> & { verifying_key: string };
    };
    const parts = Object.entries(v.inputs)
      .filter(([k]) => /^\d+$/.test(k))
      .map(([, p]) => p as DkgParticipant);
    return { v, min: Number(v.config.MIN_PARTICIPANTS), max: Number(v.config.MAX_PARTICIPANTS), parts };
  };

  it("every proof of knowledge passes our culprit check, and a tampered one fails", () => {
    const { parts } = load();
    for (const p of parts) {
      const c = p.vss_commitments.map(h);
      expect(isProofOfKnowledgeValid(id(p.identifier), c, h(p.proof_of_knowledge))).toBe(true);
      const bad = h(p.proof_of_knowledge);
      bad[64] = (bad[64] as number) ^ 1;
      expect(isProofOfKnowledgeValid(id(p.identifier), c, bad)).toBe(false);
      // A proof bound to another identifier does not transfer.
      expect(isProofOfKnowledgeValid(id(p.identifier + 1), c, h(p.proof_of_knowledge))).toBe(false);
    }
  });

  it("each participant's DKG rounds 2 and 3 reproduce the shares, verifying shares and group key", () => {
    const { v, min, max, parts } = load();
    for (const me of parts) {
      const others = parts.filter((p) => p !== me);
      const secret: TArg<DKG_Secret> = {
        identifier: BigInt(me.identifier),
        coefficients: [Fn.fromBytes(h(me.signing_key)), Fn.fromBytes(h(me.coefficient))],
        commitment: me.vss_commitments.map(h),
        signers: { min, max },
        step: 1,
      };
      const round1 = others.map((p) => ({
        identifier: id(p.identifier),
        commitment: p.vss_commitments.map(h),
        proofOfKnowledge: h(p.proof_of_knowledge),
      }));
      const out = frost.DKG.round2(secret, round1);
      for (const p of others) {
        // signing_shares[j] of a participant is the share it received from j.
        expect(bytesToHex(out[id(p.identifier)]!.signingShare)).toBe(
          `0x${p.signing_shares[String(me.identifier)]}`,
        );
      }
      const received = others.map((p) => ({
        identifier: id(p.identifier),
        signingShare: h(me.signing_shares[String(p.identifier)]!),
      }));
      for (const [i, p] of others.entries()) {
        expect(
          isShareValid(id(me.identifier), received[i]!.signingShare, round1[i]!.commitment, min, max),
        ).toBe(true);
        const wrong = Fn.toBytes(Fn.add(Fn.fromBytes(received[i]!.signingShare), 1n));
        expect(isShareValid(id(me.identifier), wrong, round1[i]!.commitment, min, max)).toBe(false);
        expect(p.identifier).not.toBe(me.identifier);
      }
      const fastSecret = structuredClone(secret);
      const key = frost.DKG.round3(secret, round1, received);
      expect(bytesToHex(key.secret.signingShare)).toBe(`0x${me.signing_share}`);
      expect(bytesToHex(key.public.commitments[0]!)).toBe(`0x${v.inputs.verifying_key}`);
      expect(bytesToHex(key.public.verifyingShares[id(me.identifier)]!)).toBe(`0x${me.verifying_share}`);
      // Our part 3 (batched share check, libsecp256k1 points) gives the same key, byte for byte.
      expect(fastFrost.dkgRound3(fastSecret, round1, received)).toEqual(key);
    }
  });
});
