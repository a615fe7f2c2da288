import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, type Hex, hexToBytes } from "@dseq/common";
import { publicKeyToAddress, secp256k1 } from "@dseq/crypto";
import { afterAll, describe, expect, it } from "vitest";
import {
  type ChainSpecInput,
  chainSpecToJson,
  loadChainSpec,
  MAX_GENESIS_GAS_LIMIT,
  parseChainSpec,
} from "./chainSpec.ts";

/** secp256k1's field prime. */
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
const word = (v: bigint) => v.toString(16).padStart(64, "0");

/** 64 bytes `x || y` (no 04 prefix) and the address their keccak gives, curve point or not. */
function rawKey(x: bigint, y: bigint): { signer: Hex; signerPubkey: string } {
  const signerPubkey = `${word(x)}${word(y)}`;
  return { signer: bytesToHex(publicKeyToAddress(hexToBytes(`0x${signerPubkey}`))), signerPubkey };
}

function realKey(seed: number): { signer: Hex; signerPubkey: string; x: bigint; y: bigint } {
  const priv = new Uint8Array(32);
  priv[31] = seed;
  priv[0] = 0x42;
  const pub = secp256k1.getPublicKey(priv, false).subarray(1);
  const x = BigInt(bytesToHex(pub.subarray(0, 32)));
  const y = BigInt(bytesToHex(pub.subarray(32)));
  return { ...rawKey(x, y), x, y };
}

const modPow = (b: bigint, e: bigint, m: bigint): bigint => {
  let r = 1n;
  for (b %= m; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
};

/** A point with a small x, written with x + p: the curve equation holds mod p, but x is not below p. */
function unreducedKey(): { signer: Hex; signerPubkey: string } {
  for (let x = 1n; ; x++) {
    const rhs = (x ** 3n + 7n) % P;
    const y = modPow(rhs, (P + 1n) / 4n, P);
    if ((y * y) % P === rhs) return rawKey(x + P, y);
  }
}

function spec(keys: { signer: Hex; signerPubkey: string }[]): ChainSpecInput {
  return {
    chainId: 1337,
    genesis: { timestamp: 0, alloc: {} },
    validators: keys.map((k, i) => ({
      id: i + 1,
      owner: k.signer,
      signer: k.signer,
      signerPubkey: k.signerPubkey,
      locked: (50_000n * 10n ** 18n).toString(),
      rewardRecipient: k.signer,
    })),
  };
}

function refusal(raw: unknown): { code: string; message: string; details: Record<string, unknown> } {
  try {
    parseChainSpec(raw);
  } catch (err) {
    const e = err as { name: string; code: string; message: string; details: Record<string, unknown> };
    expect(e.name).toBe("ChainSpecError");
    return e;
  }
  throw new Error("the chain spec was accepted");
}

describe("chain spec validators: signer keys", () => {
  const good = realKey(1);

  it("accepts curve points that hash to their signer (with or without 0x)", () => {
    const other = realKey(2);
    const parsed = parseChainSpec(spec([good, { ...other, signerPubkey: `0x${other.signerPubkey}` }]));
    expect(parsed.validators.map((v) => v.signer)).toEqual([good.signer, other.signer]);
  });

  const offCurve: [string, { signer: Hex; signerPubkey: string }][] = [
    ["y + 1", rawKey(good.x, (good.y + 1n) % P)],
    ["x >= p", unreducedKey()],
    ["zero", rawKey(0n, 0n)],
  ];
  for (const [what, key] of offCurve) {
    it(`refuses a signerPubkey off the curve (${what}) even when its keccak is the signer`, () => {
      const e = refusal(spec([good, key]));
      expect(e.code).toBe("CHAIN_SPEC_INVALID");
      expect(e.details).toEqual({
        index: 1,
        validator: 2,
        signer: key.signer,
        reason: "signerPubkey not on curve",
      });
      expect(e.message).toContain("validators.1.signerPubkey: not a point on secp256k1");
      expect(e.message).toContain(`validator id 2, signer ${key.signer}`);
    });
  }

  it("refuses a curve point that does not hash to its signer, naming the validator", () => {
    const other = realKey(3);
    const e = refusal(spec([good, { signer: other.signer, signerPubkey: realKey(4).signerPubkey }]));
    expect(e.details).toEqual({
      index: 1,
      validator: 2,
      signer: other.signer,
      reason: "signerPubkey does not match signer",
    });
    expect(e.message).toContain(`does not hash to signer ${other.signer} (validator id 2`);
  });

  const dir = mkdtempSync(join(tmpdir(), "dseq-spec-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("loadChainSpec refuses such a file at load", () => {
    const file = join(dir, "chain.json");
    writeFileSync(file, chainSpecToJson(spec([good, rawKey(good.x, (good.y + 1n) % P)])));
    expect(() => loadChainSpec(file)).toThrow(/validators\.1\.signerPubkey: not a point on secp256k1/);
    writeFileSync(file, chainSpecToJson(spec([good])));
    expect(loadChainSpec(file).validators).toHaveLength(1);
  });
});

describe("chain spec genesis gas limit (ADR 0160)", () => {
  const key = realKey(7);
  const withGas = (gasLimit: number | undefined): unknown => {
    const s = spec([key]);
    return { ...s, genesis: { ...s.genesis, ...(gasLimit === undefined ? {} : { gasLimit }) } };
  };

  it("keeps a large limit such as the devnet's 300M and defaults to 30M", () => {
    expect(parseChainSpec(withGas(300_000_000)).genesis.gasLimit).toBe(300_000_000);
    expect(parseChainSpec(withGas(undefined)).genesis.gasLimit).toBe(30_000_000);
    expect(parseChainSpec(withGas(MAX_GENESIS_GAS_LIMIT)).genesis.gasLimit).toBe(MAX_GENESIS_GAS_LIMIT);
  });

  it("refuses a limit above the bound or below 5M, naming the field", () => {
    expect(refusal(withGas(MAX_GENESIS_GAS_LIMIT + 1)).message).toMatch(/genesis\.gasLimit/);
    expect(refusal(withGas(4_999_999)).message).toMatch(/genesis\.gasLimit/);
  });
});
