import { randomBytes } from "node:crypto";
import { bytesToHex, concatBytes, equalBytes, hexToBytes, utf8ToBytes } from "@dseq/common";
import { secp256k1 as ec } from "@dseq/crypto";
import type { DKG_Round1, DKG_Round2, DKG_Secret, FrostPublic, Key } from "@noble/curves/abstract/frost.js";
import type { TArg } from "@noble/curves/utils.js";
import { TssError, TssErrorCode } from "./errors.ts";
import { sha256 } from "./identity.ts";
import { CONTEXT_STRING, Fn, frost, hashToScalar } from "./suite.ts";

/**
 * The per-signature and per-DKG hot paths of FROST(secp256k1, SHA-256), with the same inputs,
 * outputs and refusals as `@noble/curves`' `secp256k1_FROST`, but with every point operation
 * on libsecp256k1 through `@dseq/crypto` (noble's BigInt points when the native binding did not
 * load). The formulas are RFC 9591 §4-5 as noble writes them; the curve arithmetic and hashing
 * to scalars stay in the libraries. noble remains the reference: the tests check these functions
 * against noble byte for byte and against the RFC 9591 and ZF vectors (ADR 0086).
 *
 * Why: in noble every point is a BigInt projective point and a 15-of-21 signature costs each
 * signer a 15-point multi-scalar multiplication (~12 ms); libsecp256k1 does it in ~1 ms.
 */

const dst = (tag: string): Uint8Array => utf8ToBytes(`${CONTEXT_STRING}${tag}`);
const DST_RHO = dst("rho");
const DST_CHAL = dst("chal");
const DST_NONCE = dst("nonce");
const PREFIX_MSG = dst("msg");
const PREFIX_COM = dst("com");

const H1 = (m: Uint8Array): bigint => hashToScalar(m, { DST: DST_RHO });
const H2 = (m: Uint8Array): bigint => hashToScalar(m, { DST: DST_CHAL });
const H3 = (m: Uint8Array): bigint => hashToScalar(m, { DST: DST_NONCE });
const H4 = (m: Uint8Array): Uint8Array => sha256(PREFIX_MSG, m);
const H5 = (m: Uint8Array): Uint8Array => sha256(PREFIX_COM, m);

type CommitmentEntry = { identifier: string; hiding: Uint8Array; binding: Uint8Array };

/**
 * noble's aggregation error shape (`cheaters` are FROST identifiers, empty: none attributable),
 * as a TssError with code TSS_FROST_AGGREGATE.
 */
export class FrostAggregateError extends TssError {
  readonly cheaters: string[];
  constructor(message: string, cheaters: string[]) {
    super(TssErrorCode.FrostAggregate, message, { details: { cheaters } });
    this.name = "FrostAggregateError";
    this.cheaters = cheaters;
  }
}

/** noble's messages for refused inputs, kept so callers and tests see the same text. */
const invalid = (message: string): TssError => new TssError(TssErrorCode.FrostInvalidInput, message);

const parseId = (id: string): bigint => {
  const n = Fn.fromBytes(hexToBytes(`0x${id}`));
  if (n === 0n) throw invalid("invalid identifier");
  return n;
};

/** A public point, validated and in canonical (compressed) encoding. Throws on a bad point. */
const point = (p: Uint8Array): Uint8Array => ec.convertPublicKey(p, true);

/** Σ scalar_i · P_i over public values; terms with a zero scalar drop out. */
function mulSum(terms: readonly (readonly [Uint8Array, bigint])[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [p, k] of terms) {
    if (k === 0n) continue;
    parts.push(k === 1n ? p : ec.multiplyPublicKey(p, Fn.toBytes(k)));
  }
  return ec.combinePublicKeys(parts);
}

const baseMul = (k: bigint): Uint8Array => ec.getPublicKey(Fn.toBytes(k), true);

function lagrange(ids: readonly bigint[], xi: bigint): bigint {
  let num = Fn.ONE;
  let den = Fn.ONE;
  for (const x of ids) {
    if (x === xi) continue;
    num = Fn.mul(num, x);
    den = Fn.mul(den, Fn.sub(x, xi));
  }
  return Fn.div(num, den);
}

type Prepared = {
  /** Sorted by identifier. */
  entries: { identifier: string; id: bigint; hiding: Uint8Array; binding: Uint8Array }[];
  ids: bigint[];
  rho: Map<string, bigint>;
  R: Uint8Array;
  challenge: bigint;
};

/** RFC 9591 §4.3-4.5: binding factors, group commitment and challenge for one commitment list. */
function prepare(
  groupKey: Uint8Array,
  list: readonly CommitmentEntry[],
  msg: Uint8Array,
  signers: { min: number; max: number },
): Prepared {
  if (list.length < signers.min || list.length > signers.max) {
    throw invalid(`Wrong number of commitments=${list.length}`);
  }
  const entries = list.map((c) => ({
    identifier: c.identifier,
    id: parseId(c.identifier),
    hiding: point(c.hiding),
    binding: point(c.binding),
  }));
  entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]?.id === entries[i - 1]?.id) throw invalid("duplicated identifier in commitment list");
  }
  const gpk = point(groupKey);
  const encoded = concatBytes(...entries.flatMap((e) => [Fn.toBytes(e.id), e.hiding, e.binding]));
  const prefix = concatBytes(gpk, H4(msg), H5(encoded));
  const rho = new Map<string, bigint>();
  for (const e of entries) rho.set(e.identifier, H1(concatBytes(prefix, Fn.toBytes(e.id))));
  const R = ec.combinePublicKeys([
    ...entries.map((e) => e.hiding),
    mulSum(entries.map((e) => [e.binding, rho.get(e.identifier) as bigint] as const)),
  ]);
  const challenge = H2(concatBytes(R, gpk, msg));
  return { entries, ids: entries.map((e) => e.id), rho, R, challenge };
}

/** Round 1 (RFC 9591 §5.1): fresh nonces and their commitments. `rng` is for test vectors only. */
function commit(
  secret: { identifier: string; signingShare: Uint8Array },
  rng: (n: number) => Uint8Array = (n) => new Uint8Array(randomBytes(n)),
): { nonces: { hiding: Uint8Array; binding: Uint8Array }; commitments: CommitmentEntry } {
  const sk = Fn.toBytes(Fn.fromBytes(secret.signingShare));
  const hiding = H3(concatBytes(rng(32), sk));
  const binding = H3(concatBytes(rng(32), sk));
  if (hiding === 0n || binding === 0n) throw invalid("zero nonce");
  return {
    nonces: { hiding: Fn.toBytes(hiding), binding: Fn.toBytes(binding) },
    commitments: { identifier: secret.identifier, hiding: baseMul(hiding), binding: baseMul(binding) },
  };
}

/**
 * Round 2 (RFC 9591 §5.2): this signer's share. Refuses, like noble, a list that does not hold
 * this signer's own commitments for these nonces, and nonces already used; zeroes the nonces.
 */
function signShare(
  secret: { identifier: string; signingShare: Uint8Array },
  pub: TArg<FrostPublic>,
  nonces: { hiding: Uint8Array; binding: Uint8Array },
  list: readonly CommitmentEntry[],
  msg: Uint8Array,
): Uint8Array {
  const d = Fn.fromBytes(nonces.hiding);
  const e = Fn.fromBytes(nonces.binding);
  if (d === 0n || e === 0n) throw invalid("signing nonces already used");
  const mine = list.find((c) => c.identifier === secret.identifier);
  if (!mine) throw invalid("missing signer commitment");
  if (!equalBytes(point(mine.hiding), baseMul(d)) || !equalBytes(point(mine.binding), baseMul(e))) {
    throw invalid("incorrect signer commitment");
  }
  const p = prepare(pub.commitments[0] as Uint8Array, list, msg, pub.signers);
  const id = parseId(secret.identifier);
  const lambda = lagrange(p.ids, id);
  const sk = Fn.fromBytes(secret.signingShare);
  const rho = p.rho.get(secret.identifier) as bigint;
  const z = Fn.add(Fn.add(d, Fn.mul(e, rho)), Fn.mul(Fn.mul(lambda, sk), p.challenge));
  nonces.hiding.fill(0);
  nonces.binding.fill(0);
  return Fn.toBytes(z);
}

function shareValid(pub: TArg<FrostPublic>, p: Prepared, identifier: string, share: Uint8Array): boolean {
  try {
    const entry = p.entries.find((x) => x.identifier === identifier);
    const Y = pub.verifyingShares[identifier];
    if (!entry || !Y || share.length !== 32) return false;
    const z = Fn.fromBytes(share);
    if (z === 0n) return false;
    const lambda = lagrange(p.ids, entry.id);
    const rhs = ec.combinePublicKeys([
      entry.hiding,
      mulSum([
        [entry.binding, p.rho.get(identifier) as bigint],
        [point(Y), Fn.mul(p.challenge, lambda)],
      ]),
    ]);
    return equalBytes(baseMul(z), rhs);
  } catch {
    return false;
  }
}

/** RFC 9591 §5.4: whether one signer's share is valid for this list and message. */
function verifyShare(
  pub: TArg<FrostPublic>,
  list: readonly CommitmentEntry[],
  msg: Uint8Array,
  identifier: string,
  share: Uint8Array,
): boolean {
  try {
    return shareValid(
      pub,
      prepare(pub.commitments[0] as Uint8Array, list, msg, pub.signers),
      identifier,
      share,
    );
  } catch {
    return false;
  }
}

/**
 * RFC 9591 §5.3: the signature R || z (65 bytes). The sum is checked as a signature; when it
 * fails, every share is checked and the bad signers' identifiers are thrown as `cheaters`.
 */
function aggregate(
  pub: TArg<FrostPublic>,
  list: readonly CommitmentEntry[],
  msg: Uint8Array,
  shares: Record<string, Uint8Array>,
): Uint8Array {
  const ids = list.map((c) => c.identifier);
  let p: Prepared;
  try {
    if (new Set(ids).size !== ids.length || ids.length !== Object.keys(shares).length)
      throw invalid("share set does not match the commitment list");
    for (const id of ids)
      if (!(id in shares) || !(id in pub.verifyingShares)) throw invalid("share of an unknown signer");
    p = prepare(pub.commitments[0] as Uint8Array, list, msg, pub.signers);
  } catch {
    throw new FrostAggregateError("aggregation failed", []);
  }
  let z = Fn.ZERO;
  for (const id of ids) {
    const s = shares[id] as Uint8Array;
    if (s.length !== 32) throw new FrostAggregateError("aggregation failed", [id]);
    z = Fn.add(z, Fn.fromBytes(s));
  }
  const gpk = point(pub.commitments[0] as Uint8Array);
  const ok =
    z !== 0n &&
    equalBytes(
      baseMul(z),
      mulSum([
        [p.R, 1n],
        [gpk, p.challenge],
      ]),
    );
  if (!ok) {
    const cheaters = ids.filter((id) => !shareValid(pub, p, id, shares[id] as Uint8Array));
    throw new FrostAggregateError("aggregation failed", cheaters);
  }
  return concatBytes(p.R, Fn.toBytes(z));
}

/** Σ_k x^k · C_k (RFC 9591 Appendix C.2), the public image of a polynomial at x. */
function evalCommitment(x: bigint, commitment: readonly Uint8Array[]): Uint8Array {
  const terms: [Uint8Array, bigint][] = [];
  let xk = Fn.ONE;
  for (const c of commitment) {
    terms.push([c, xk]);
    xk = Fn.mul(xk, x);
  }
  return mulSum(terms);
}

/**
 * DKG part 3: the long-lived key from this party's secret and the peers' round-1 packages
 * and shares; output identical to noble's `DKG.round3`. The shares are checked together, as
 * `s·G = Y_self` on their sum (one multiplication instead of one VSS check per dealer); when that
 * fails, the error says so and the caller checks each dealer to name the culprit. Cleans the
 * secret polynomial like noble does.
 */
function dkgRound3(
  secret: TArg<DKG_Secret>,
  round1: readonly TArg<DKG_Round1>[],
  round2: readonly TArg<DKG_Round2>[],
): TArg<Key> {
  const coefficients = secret.coefficients;
  if (!coefficients || secret.step !== 2) throw invalid("round2 package used in round3");
  const { min, max } = secret.signers;
  if (round1.length !== max - 1 || round2.length !== round1.length) throw invalid("wrong number of packages");
  const selfId = secret.identifier;
  const shares = new Map(round2.map((r) => [parseId(r.identifier), r.signingShare]));
  const dealers = new Map<bigint, Uint8Array[]>();
  dealers.set(
    selfId,
    secret.commitment.map((c) => point(c)),
  );
  for (const r of round1) {
    const id = parseId(r.identifier);
    if (dealers.has(id) || !shares.has(id)) throw invalid(`mismatch identifiers: ${r.identifier}`);
    if (r.commitment.length !== min) throw invalid("wrong commitments length");
    dealers.set(
      id,
      r.commitment.map((c) => point(c)),
    );
  }
  let own = Fn.ZERO;
  for (let k = coefficients.length - 1; k >= 0; k--)
    own = Fn.add(Fn.mul(own, selfId), coefficients[k] as bigint);
  let signing = own;
  for (const s of shares.values()) signing = Fn.add(signing, Fn.fromBytes(s));
  const merged: Uint8Array[] = [];
  for (let k = 0; k < min; k++)
    merged.push(ec.combinePublicKeys([...dealers.values()].map((c) => c[k] as Uint8Array)));
  const verifyingShares: Record<string, Uint8Array> = {};
  for (const id of dealers.keys())
    verifyingShares[bytesToHex(Fn.toBytes(id)).slice(2)] = evalCommitment(id, merged);
  const selfHex = bytesToHex(Fn.toBytes(selfId)).slice(2);
  if (signing === 0n || !equalBytes(baseMul(signing), verifyingShares[selfHex] as Uint8Array)) {
    throw invalid("invalid secret share");
  }
  frost.DKG.clean(secret);
  return {
    public: { signers: { min, max }, commitments: merged, verifyingShares },
    secret: { identifier: selfHex, signingShare: Fn.toBytes(signing) },
  };
}

/** The FROST operations `mpc-tss` runs per signature and per DKG, on the fast backend. */
export const fastFrost = { commit, signShare, verifyShare, aggregate, dkgRound3 } as const;
