import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bytesToHex, createCapturingLogger, hexToBytes } from "@dseq/common";
import { vectorsPath } from "@dseq/common/vectors";
import { secp256k1 as noble } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { describe, expect, it } from "vitest";
import {
  cryptoBackend,
  keccak256,
  logCryptoBackend,
  nobleKeccak256,
  nobleSecp256k1,
  secp256k1,
} from "./backend.ts";

const keccakDir = vectorsPath("keccak");
const wycheproofDir = vectorsPath("wycheproof");

function parseKat(text: string): { msg: Uint8Array; md: string }[] {
  const out: { msg: Uint8Array; md: string }[] = [];
  let len = -1;
  let msg = "";
  for (const line of text.split("\n")) {
    const m = /^(Len|Msg|MD) = (\S+)/.exec(line.trim());
    if (!m) continue;
    if (m[1] === "Len") len = Number(m[2]);
    else if (m[1] === "Msg") msg = m[2] as string;
    else if (len % 8 === 0) {
      out.push({
        msg: len === 0 ? new Uint8Array() : hexToBytes(`0x${msg}`),
        md: `0x${(m[2] as string).toLowerCase()}`,
      });
    }
  }
  return out;
}

describe.skipIf(!keccakDir)("[vectors] keccak256 against the Keccak team KATs", () => {
  for (const file of ["ShortMsgKAT_256.txt", "LongMsgKAT_256.txt"]) {
    it(file, () => {
      const cases = parseKat(readFileSync(join(keccakDir as string, file), "utf8"));
      expect(cases.length).toBeGreaterThan(50);
      for (const c of cases) {
        expect(bytesToHex(keccak256(c.msg))).toBe(c.md);
        expect(bytesToHex(nobleKeccak256(c.msg))).toBe(c.md);
      }
    });
  }
});

type WycheTest = {
  tcId: number;
  msg: string;
  sig: string;
  result: "valid" | "invalid" | "acceptable";
  flags: string[];
};
type WycheGroup = { publicKey: { uncompressed: string }; tests: WycheTest[] };

describe.skipIf(!wycheproofDir)(
  "[vectors] secp256k1 verify against Wycheproof (bitcoin low-S variant)",
  () => {
    for (const backend of [secp256k1, nobleSecp256k1]) {
      it(`${backend.name}: every valid signature verifies, no invalid one does`, () => {
        const file = join(wycheproofDir as string, "ecdsa_secp256k1_sha256_bitcoin_test.json");
        const groups = (JSON.parse(readFileSync(file, "utf8")) as { testGroups: WycheGroup[] }).testGroups;
        let valid = 0;
        let invalid = 0;
        for (const g of groups) {
          const pub = hexToBytes(`0x${g.publicKey.uncompressed}`);
          for (const t of g.tests) {
            let compact: Uint8Array | undefined;
            try {
              compact = noble.Signature.fromBytes(hexToBytes(`0x${t.sig}`), "der").toBytes("compact");
            } catch {
              compact = undefined; // malformed DER: nothing reaches the verifier
            }
            const ok =
              compact !== undefined && backend.verify(sha256(hexToBytes(`0x${t.msg}`)), compact, pub);
            if (t.result === "valid") {
              expect(ok, `tcId ${t.tcId}`).toBe(true);
              valid++;
            } else if (t.result === "invalid" && compact !== undefined) {
              // Encoding-only defects (BER, padding) are the DER parser's business, not ours.
              const encodingOnly = t.flags.some((f) => /Ber|Encoding|ModifiedInteger|Asn/i.test(f));
              if (!encodingOnly) expect(ok, `tcId ${t.tcId} ${t.flags}`).toBe(false);
              invalid++;
            }
          }
        }
        expect(valid).toBeGreaterThan(100);
        expect(invalid).toBeGreaterThan(10);
      });
    }
  },
);

describe("secp256k1 backends agree", () => {
  it("native (when loaded) and noble give identical keys, signatures and recoveries", () => {
    for (let i = 1; i <= 50; i++) {
      const priv = keccak256(new Uint8Array([i, 1, 2, 3]));
      const msg = keccak256(new Uint8Array([i]));
      expect(secp256k1.getPublicKey(priv)).toEqual(nobleSecp256k1.getPublicKey(priv));
      expect(secp256k1.getPublicKey(priv, true)).toEqual(nobleSecp256k1.getPublicKey(priv, true));
      const a = secp256k1.sign(msg, priv);
      const b = nobleSecp256k1.sign(msg, priv);
      expect(a).toEqual(b);
      const pub = nobleSecp256k1.getPublicKey(priv);
      expect(secp256k1.recover(msg, a.signature, a.recovery)).toEqual(pub);
      expect(nobleSecp256k1.recover(msg, a.signature, a.recovery)).toEqual(pub);
      expect(secp256k1.verify(msg, a.signature, pub)).toBe(true);
      const bad = msg.slice();
      bad[0] = (bad[0] as number) ^ 1;
      expect(secp256k1.verify(bad, a.signature, pub)).toBe(false);
      expect(secp256k1.recover(bad, a.signature, a.recovery)).not.toEqual(pub);
    }
  });

  it("point conversion and ECDH agree between backends and refuse points off the curve", () => {
    for (let i = 1; i <= 20; i++) {
      const a = keccak256(new Uint8Array([i, 9]));
      const b = keccak256(new Uint8Array([i, 10]));
      const pubA = nobleSecp256k1.getPublicKey(a, true);
      const pubB = nobleSecp256k1.getPublicKey(b, false);
      for (const be of [secp256k1, nobleSecp256k1]) {
        expect(be.convertPublicKey(pubA, false)).toEqual(nobleSecp256k1.getPublicKey(a, false));
        expect(be.convertPublicKey(pubB, true)).toEqual(nobleSecp256k1.getPublicKey(b, true));
        // ECDH is symmetric, and the shared point is a·b·G on either side.
        const ab = be.sharedPoint(a, pubB);
        expect(ab).toHaveLength(33);
        expect(be.sharedPoint(b, pubA)).toEqual(ab);
        expect(ab).toEqual(nobleSecp256k1.sharedPoint(a, pubB));
      }
    }
    const n = noble.Point.Fn.ORDER;
    for (let i = 1; i <= 20; i++) {
      const pts = [1, 2, 3].map((j) =>
        nobleSecp256k1.getPublicKey(keccak256(new Uint8Array([i, j])), j === 2),
      );
      const k = keccak256(new Uint8Array([i, 77]));
      const P = noble.Point.fromBytes(pts[0] as Uint8Array);
      const kn = noble.Point.Fn.fromBytes(k);
      for (const be of [secp256k1, nobleSecp256k1]) {
        const sum = pts.reduce((acc, p) => acc.add(noble.Point.fromBytes(p)), noble.Point.ZERO);
        expect(be.combinePublicKeys(pts)).toEqual(sum.toBytes(true));
        expect(be.multiplyPublicKey(pts[0] as Uint8Array, k)).toEqual(P.multiply(kn).toBytes(true));
        // P + (-P) is the point at infinity, which has no encoding.
        expect(() => be.combinePublicKeys([pts[0] as Uint8Array, P.negate().toBytes(true)])).toThrow();
        expect(() => be.multiplyPublicKey(pts[0] as Uint8Array, new Uint8Array(32))).toThrow();
        const big = new Uint8Array(Buffer.from(n.toString(16), "hex"));
        expect(() => be.multiplyPublicKey(pts[0] as Uint8Array, big)).toThrow();
      }
    }
    const offCurve = new Uint8Array(33).fill(0xff);
    offCurve[0] = 2;
    for (const be of [secp256k1, nobleSecp256k1]) {
      expect(() => be.convertPublicKey(offCurve, false)).toThrow();
      expect(() => be.sharedPoint(new Uint8Array(32).fill(1), offCurve)).toThrow();
    }
  });

  it("rejects invalid private keys", () => {
    expect(secp256k1.isValidPrivateKey(new Uint8Array(32))).toBe(false);
    expect(secp256k1.isValidPrivateKey(new Uint8Array(32).fill(0xff))).toBe(false);
    expect(secp256k1.isValidPrivateKey(new Uint8Array(31).fill(1))).toBe(false);
    expect(secp256k1.isValidPrivateKey(new Uint8Array(32).fill(1))).toBe(true);
  });

  it("this machine loads the fast paths", () => {
    // The prebuilt linux-x64 libsecp256k1 and the wasm keccak ship inside their npm packages.
    expect(cryptoBackend()).toMatchObject({ secp256k1: "native", keccak: "wasm" });
  });

  it("falls back to noble when told to, and says so in the log once", () => {
    const script = `
      import { cryptoBackend, logCryptoBackend, keccak256 } from "./backend.ts";
      import { createCapturingLogger, bytesToHex } from "@dseq/common";
      const { logger, lines } = createCapturingLogger();
      logCryptoBackend(logger); logCryptoBackend(logger);
      console.log(JSON.stringify({ info: cryptoBackend(), lines, h: bytesToHex(keccak256(new Uint8Array())) }));
    `;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: import.meta.dirname,
      env: { ...process.env, DSEQ_CRYPTO: "noble" },
      encoding: "utf8",
    });
    const got = JSON.parse(out) as {
      info: { secp256k1: string; keccak: string };
      lines: { level: string }[];
      h: string;
    };
    expect(got.info).toMatchObject({ secp256k1: "noble", keccak: "noble" });
    expect(got.lines).toHaveLength(1);
    expect(got.lines[0]?.level).toBe("warn");
    expect(got.h).toBe("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
  });

  it("logs the fast backend at info", () => {
    const { logger, lines } = createCapturingLogger();
    logCryptoBackend(logger);
    expect(lines[0]).toMatchObject({ level: "info", secp256k1: "native", keccak: "wasm" });
  });
});
