import { readFileSync } from "node:fs";
import { vectorsPath } from "@dseq/common/vectors";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { type Address, bytesToHex, type Hex, hexToBytes, keccak256, toHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevL1, startDevL1 } from "../src/devL1.ts";
import { FrostVerifierHarnessArtifact } from "../src/generated/artifacts.ts";
import { clients, createFrostGroup, toAffineSignature, toCompactSignature } from "./helpers.ts";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;

let l1: DevL1;
let harness: Address;
let c: ReturnType<typeof clients>;

beforeAll(async () => {
  l1 = await startDevL1({ accounts: 1 });
  c = clients(l1);
  const hash = await c.wallet.deployContract({
    abi: FrostVerifierHarnessArtifact.abi,
    bytecode: FrostVerifierHarnessArtifact.bytecode,
  });
  harness = (await c.publicClient.waitForTransactionReceipt({ hash })).contractAddress!;
}, 60_000);

afterAll(async () => {
  await l1?.stop();
});

async function verify(key: Hex, msg: Hex, sig: Hex): Promise<{ ok: boolean; gas: bigint }> {
  const [ok, gas] = await c.publicClient.readContract({
    address: harness,
    abi: FrostVerifierHarnessArtifact.abi,
    functionName: "verify",
    args: [key, msg, sig],
  });
  return { ok, gas };
}

function withZ(sig: Hex, z: bigint): Hex {
  return `${sig.slice(0, 68)}${z.toString(16).padStart(64, "0")}` as Hex;
}

const vectorFile = vectorsPath("frost/rfc9591-frost-secp256k1-sha256.cfrg.json");

describe.skipIf(!vectorFile)("[vectors] RFC 9591 vector (FROST(secp256k1, SHA-256), Appendix E.5)", () => {
  it("verifies the vector's final signature on-chain and rejects it for another message", async () => {
    const v = JSON.parse(readFileSync(vectorFile!, "utf8"));
    const key = `0x${v.inputs.group_public_key}` as Hex;
    const msg = `0x${v.inputs.message}` as Hex;
    const sig = `0x${v.final_output.sig}` as Hex;
    expect((await verify(key, msg, sig)).ok).toBe(true);
    expect((await verify(key, "0x74657375", sig)).ok).toBe(false);
  });
});

const zfFiles = ["zf-secp256k1-vectors.json", "zf-secp256k1-vectors-big-identifier.json"].map((f) => ({
  f,
  path: vectorsPath(`frost/${f}`),
}));

describe("Zcash Foundation FROST secp256k1 vectors", () => {
  for (const { f, path } of zfFiles) {
    it.skipIf(!path)(`[vectors] verifies the final signature of ${f} on-chain`, async () => {
      const v = JSON.parse(readFileSync(path!, "utf8"));
      const key = `0x${v.inputs.verifying_key_key}` as Hex;
      const msg = `0x${v.inputs.message}` as Hex;
      const sig = `0x${v.final_output.sig}` as Hex;
      expect((await verify(key, msg, sig)).ok).toBe(true);
      expect((await verify(key, msg, withZ(sig, (BigInt(`0x${sig.slice(68)}`) + 1n) % N))).ok).toBe(false);
    });
  }
});

describe("FrostVerifier with signatures from @noble/curves secp256k1_FROST", () => {
  const group = createFrostGroup(2, 3);
  const msg = keccak256(toHex("batch header"));

  it("accepts a 2-of-3 threshold signature and reports its gas", async () => {
    const sig = group.sign(msg);
    const { ok, gas } = await verify(group.groupKey, msg, sig);
    expect(ok).toBe(true);
    process.stdout.write(`gas report: FROST check alone ${gas} gas\n`);
    expect(gas).toBeLessThan(10_000n);
  });

  it("accepts signatures across many random keys and messages (both key and R parities)", async () => {
    const parities = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const g = createFrostGroup(2, 3);
      const m = keccak256(toHex(`message ${i}`));
      const sig = g.sign(m);
      parities.add(`${g.groupKey.slice(2, 4)}/${sig.slice(2, 4)}`);
      expect((await verify(g.groupKey, m, sig)).ok).toBe(true);
    }
    expect(parities.size).toBeGreaterThan(1);
  });

  it("rejects a tampered message, z, R, or the wrong key", async () => {
    const sig = group.sign(msg);
    const other = createFrostGroup(2, 3);
    const z = BigInt(`0x${sig.slice(68)}`);
    expect((await verify(group.groupKey, keccak256(toHex("other header")), sig)).ok).toBe(false);
    expect((await verify(group.groupKey, msg, withZ(sig, (z + 1n) % N))).ok).toBe(false);
    // out-of-range scalars are rejected before any arithmetic (no malleable encodings)
    expect((await verify(group.groupKey, msg, withZ(sig, N))).ok).toBe(false);
    expect((await verify(group.groupKey, msg, withZ(sig, 2n ** 256n - 1n))).ok).toBe(false);
    // R replaced by another valid point, by the same x with the other parity, and by an x off the curve
    const otherR = bytesToHex(secp256k1.Point.BASE.multiply(12345n).toBytes(true));
    expect((await verify(group.groupKey, msg, `${otherR}${sig.slice(68)}` as Hex)).ok).toBe(false);
    const flipped = `0x${sig.slice(2, 4) === "02" ? "03" : "02"}${sig.slice(4)}` as Hex;
    expect((await verify(group.groupKey, msg, flipped)).ok).toBe(false);
    let x = 5n;
    while (hasSqrt((x ** 3n + 7n) % P)) x++;
    const offCurve = `0x02${x.toString(16).padStart(64, "0")}${sig.slice(68)}` as Hex;
    expect((await verify(group.groupKey, msg, offCurve)).ok).toBe(false);
    const badPrefix = `0x04${sig.slice(4)}` as Hex;
    expect((await verify(group.groupKey, msg, badPrefix)).ok).toBe(false);
    expect((await verify(group.groupKey, msg, sig.slice(0, 130) as Hex)).ok).toBe(false);
    expect((await verify(other.groupKey, msg, sig)).ok).toBe(false);
  });

  it("accepts the 160-byte affine form (rx, ry, z, px, py) and rejects its tampered variants", async () => {
    const sig = group.sign(msg);
    const wide = toAffineSignature(sig, group.groupKey);
    expect(wide.length).toBe(2 + 320);
    const { ok, gas } = await verify(group.groupKey, msg, wide);
    expect(ok).toBe(true);
    process.stdout.write(`gas report: FROST check alone, 160-byte affine form ${gas} gas\n`);
    const word = (i: number) => BigInt(`0x${wide.slice(2 + 64 * i, 2 + 64 * (i + 1))}`);
    const withWord = (i: number, v: bigint): Hex =>
      `${wide.slice(0, 2 + 64 * i)}${v.toString(16).padStart(64, "0")}${wide.slice(2 + 64 * (i + 1))}` as Hex;
    expect((await verify(group.groupKey, keccak256(toHex("other")), wide)).ok).toBe(false);
    expect((await verify(group.groupKey, msg, withWord(1, P - word(1)))).ok).toBe(false); // -R
    expect((await verify(group.groupKey, msg, withWord(1, word(1) + 1n))).ok).toBe(false); // R off-curve
    expect((await verify(group.groupKey, msg, withWord(2, (word(2) + 1n) % N))).ok).toBe(false); // z
    expect((await verify(group.groupKey, msg, withWord(2, N))).ok).toBe(false);
    expect((await verify(group.groupKey, msg, withWord(4, P - word(4)))).ok).toBe(false); // other key parity
    expect((await verify(group.groupKey, msg, withWord(4, word(4) + 2n))).ok).toBe(false); // key off-curve
    const other = createFrostGroup(2, 3);
    const otherWide = toAffineSignature(sig, other.groupKey); // names another key
    expect((await verify(group.groupKey, msg, otherWide)).ok).toBe(false);
    expect((await verify(group.groupKey, msg, wide.slice(0, 2 + 318) as Hex)).ok).toBe(false);
  });

  it("accepts the 96-byte form (rx, ry, z) in at most 4,500 gas and refuses wrong signatures, keys, malleated z, R at infinity", async () => {
    const sig = group.sign(msg);
    const compact = toCompactSignature(sig);
    expect(compact.length).toBe(2 + 192);
    const { ok, gas } = await verify(group.groupKey, msg, compact);
    expect(ok).toBe(true);
    process.stdout.write(`gas report: FROST check alone, 96-byte form ${gas} gas\n`);
    expect(gas).toBeLessThanOrEqual(4_500n);
    const word = (i: number) => BigInt(`0x${compact.slice(2 + 64 * i, 2 + 64 * (i + 1))}`);
    const withWord = (i: number, v: bigint): Hex =>
      `${compact.slice(0, 2 + 64 * i)}${v.toString(16).padStart(64, "0")}${compact.slice(2 + 64 * (i + 1))}` as Hex;
    const refused = async (key: Hex, m: Hex, s: Hex) => expect((await verify(key, m, s)).ok).toBe(false);
    // a valid signature of another message, and this one under another key
    await refused(group.groupKey, msg, toCompactSignature(group.sign(keccak256(toHex("other")))));
    await refused(createFrostGroup(2, 3).groupKey, msg, compact);
    // malleated z: z + N (same value mod N), N - z, N, and z + 1
    const z = word(2);
    if (z + N < 2n ** 256n) await refused(group.groupKey, msg, withWord(2, z + N));
    await refused(group.groupKey, msg, withWord(2, N - z));
    await refused(group.groupKey, msg, withWord(2, N));
    await refused(group.groupKey, msg, withWord(2, (z + 1n) % N));
    // R: -R, ry + P (same residue), at infinity (no affine form: (0, 0) and the all-zero signature)
    await refused(group.groupKey, msg, withWord(1, P - word(1)));
    await refused(group.groupKey, msg, withWord(1, word(1) + P));
    await refused(group.groupKey, msg, `0x${"0".repeat(128)}${compact.slice(2 + 128)}`);
    await refused(group.groupKey, msg, `0x${"0".repeat(192)}`);
    // R at infinity in the 65-byte form (SEC1's identity is 0x00; padded to 33 bytes) and z = 0
    await refused(group.groupKey, msg, `0x${"0".repeat(130)}`);
    // lengths around 96
    await refused(group.groupKey, msg, compact.slice(0, 2 + 190) as Hex);
    await refused(group.groupKey, msg, `${compact}00` as Hex);
    // the message is its bytes and their number: a short message is not its zero-padded word, and one
    // over 32 bytes (which the verifier does not take) is refused, not cut to its first word
    const short = "0x74657374" as Hex;
    const shortSig = toCompactSignature(group.sign(short));
    expect((await verify(group.groupKey, short, shortSig)).ok).toBe(true);
    await refused(group.groupKey, `${short}${"00".repeat(28)}` as Hex, shortSig);
    const long = `${msg}00` as Hex;
    await refused(group.groupKey, long, toCompactSignature(group.sign(long)));
  });

  it("the 96-byte form carries the RFC 9591 vectors' signatures too (same check, R affine)", async () => {
    for (const { path } of zfFiles) {
      if (!path) continue;
      const v = JSON.parse(readFileSync(path, "utf8"));
      const key = `0x${v.inputs.verifying_key_key}` as Hex;
      const sig = toCompactSignature(`0x${v.final_output.sig}` as Hex);
      expect((await verify(key, `0x${v.inputs.message}` as Hex, sig)).ok).toBe(true);
      expect((await verify(key, "0x00", sig)).ok).toBe(false);
    }
  });

  it("computes the RFC 9591 challenge exactly (checked against an independent expand_message_xmd)", async () => {
    const sig = group.sign(msg);
    const onChain = await c.publicClient.readContract({
      address: harness,
      abi: FrostVerifierHarnessArtifact.abi,
      functionName: "challenge",
      args: [group.groupKey, msg, sig],
    });
    const input = new Uint8Array([
      ...hexToBytes(sig).slice(0, 33),
      ...hexToBytes(group.groupKey),
      ...hexToBytes(msg),
    ]);
    expect(onChain).toBe(await challengeRef(input));
  });
});

function hasSqrt(a: bigint): boolean {
  return modPow(a, (P - 1n) / 2n, P) === 1n;
}

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % m;
    b = (b * b) % m;
    e >>= 1n;
  }
  return r;
}

/** RFC 9380 expand_message_xmd(SHA-256) + hash_to_field, written from the RFC with node:crypto. */
async function challengeRef(input: Uint8Array): Promise<bigint> {
  const { createHash } = await import("node:crypto");
  const sha = (...parts: Uint8Array[]) => {
    const h = createHash("sha256");
    for (const p of parts) h.update(p);
    return new Uint8Array(h.digest());
  };
  const dst = new TextEncoder().encode("FROST-secp256k1-SHA256-v1chal");
  const dstPrime = new Uint8Array([...dst, dst.length]);
  const b0 = sha(new Uint8Array(64), input, new Uint8Array([0, 48, 0]), dstPrime);
  const b1 = sha(b0, new Uint8Array([1]), dstPrime);
  const b2 = sha(
    b0.map((x, i) => x ^ b1[i]!),
    new Uint8Array([2]),
    dstPrime,
  );
  const uniform = new Uint8Array([...b1, ...b2.slice(0, 16)]);
  return BigInt(bytesToHex(uniform)) % N;
}
