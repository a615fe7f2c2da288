import { createRequire } from "node:module";
import type { Logger } from "@dseq/common";
import { secp256k1 as nobleSecp } from "@noble/curves/secp256k1.js";
import { keccak_256 as nobleKeccak } from "@noble/hashes/sha3.js";
import { createKeccak } from "hash-wasm";
import { CryptoError, CryptoErrorCode } from "./errors.ts";

/**
 * The secp256k1 operations the node needs on its hot paths. Two implementations: libsecp256k1
 * through the `secp256k1` package's prebuilt N-API binding, and @noble/curves (audited pure JS,
 * ~30x slower at recovery). Both are deterministic (RFC 6979) and produce low-S signatures,
 * so they give identical bytes.
 */
export interface Secp256k1Backend {
  readonly name: "native" | "noble";
  /** 65-byte uncompressed (`04 || x || y`) or 33-byte compressed public key. */
  getPublicKey(privateKey: Uint8Array, compressed?: boolean): Uint8Array;
  /** Signs a 32-byte hash: 64-byte `r || s` (low S) and the recovery id. */
  sign(msgHash: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recovery: number };
  /** The 65-byte uncompressed public key that made `signature` over `msgHash`; throws if none. */
  recover(msgHash: Uint8Array, signature: Uint8Array, recovery: number): Uint8Array;
  /** Verifies a 64-byte low-S signature against a public key (33 or 65 bytes). */
  verify(msgHash: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
  isValidPrivateKey(privateKey: Uint8Array): boolean;
  /**
   * The same public key in the other encoding (33-byte compressed or 65-byte uncompressed);
   * throws on bytes that are not a point on the curve. Decompression is a square root, which
   * libsecp256k1 does about 100x faster than BigInt code.
   */
  convertPublicKey(publicKey: Uint8Array, compressed: boolean): Uint8Array;
  /** ECDH: the shared point `privateKey · publicKey`, compressed (33 bytes); throws on a bad key. */
  sharedPoint(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** Sum of points (33 or 65 bytes each), compressed; throws on a bad point or an infinite sum. */
  combinePublicKeys(publicKeys: readonly Uint8Array[]): Uint8Array;
  /**
   * `scalar · publicKey` for a public scalar (32 bytes big-endian, 0 < scalar < n), compressed;
   * for the threshold-signature arithmetic of `mpc-tss` over public values.
   */
  multiplyPublicKey(publicKey: Uint8Array, scalar: Uint8Array): Uint8Array;
}

type NativeSecp = {
  publicKeyCreate(priv: Uint8Array, compressed?: boolean): Uint8Array;
  ecdsaSign(msg: Uint8Array, priv: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaRecover(sig: Uint8Array, recid: number, msg: Uint8Array, compressed?: boolean): Uint8Array;
  ecdsaVerify(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): boolean;
  privateKeyVerify(priv: Uint8Array): boolean;
  publicKeyConvert(pub: Uint8Array, compressed?: boolean): Uint8Array;
  publicKeyCombine(pubs: Uint8Array[], compressed?: boolean): Uint8Array;
  publicKeyTweakMul(pub: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array;
  ecdh(
    pub: Uint8Array,
    priv: Uint8Array,
    options: { hashfn: (x: Uint8Array, y: Uint8Array) => Uint8Array },
    output: Uint8Array,
  ): Uint8Array;
};

/** libsecp256k1's ECDH "hash" that returns the compressed shared point itself. */
function compressedPoint(x: Uint8Array, y: Uint8Array): Uint8Array {
  const out = new Uint8Array(33);
  out[0] = 0x02 | ((y[31] as number) & 1);
  out.set(x, 1);
  return out;
}

export const nobleSecp256k1: Secp256k1Backend = {
  name: "noble",
  getPublicKey: (priv, compressed = false) => nobleSecp.getPublicKey(priv, compressed),
  sign(msgHash, priv) {
    const rec = nobleSecp.sign(msgHash, priv, { prehash: false, format: "recovered", lowS: true });
    return { signature: rec.slice(1), recovery: rec[0] as number };
  },
  recover(msgHash, signature, recovery) {
    const sig = nobleSecp.Signature.fromBytes(signature, "compact").addRecoveryBit(recovery);
    return sig.recoverPublicKey(msgHash).toBytes(false);
  },
  verify(msgHash, signature, publicKey) {
    try {
      return nobleSecp.verify(signature, msgHash, publicKey, {
        prehash: false,
        lowS: true,
        format: "compact",
      });
    } catch {
      return false;
    }
  },
  isValidPrivateKey: (priv) => nobleSecp.utils.isValidSecretKey(priv),
  convertPublicKey: (pub, compressed) => nobleSecp.Point.fromBytes(pub).toBytes(compressed),
  sharedPoint: (priv, pub) => nobleSecp.getSharedSecret(priv, pub, true),
  combinePublicKeys(pubs) {
    let sum = nobleSecp.Point.ZERO;
    for (const p of pubs) sum = sum.add(nobleSecp.Point.fromBytes(p));
    return sum.toBytes(true); // throws on the point at infinity
  },
  multiplyPublicKey(pub, scalar) {
    const k = nobleSecp.Point.Fn.fromBytes(scalar); // throws on k >= n
    if (k === 0n) throw new CryptoError(CryptoErrorCode.ZeroScalar, "zero scalar");
    return nobleSecp.Point.fromBytes(pub).multiplyUnsafe(k).toBytes(true);
  },
};

function loadNative(): { backend?: Secp256k1Backend; error?: unknown } {
  if (process.env.DSEQ_CRYPTO === "noble") return { error: new Error("DSEQ_CRYPTO=noble") };
  try {
    // `secp256k1/bindings` is the N-API addon only; the package's main entry would silently
    // fall back to a slow JS implementation, which we want to know about instead.
    const native = createRequire(import.meta.url)("secp256k1/bindings") as NativeSecp;
    const backend: Secp256k1Backend = {
      name: "native",
      getPublicKey: (priv, compressed = false) => native.publicKeyCreate(priv, compressed),
      sign(msgHash, priv) {
        const { signature, recid } = native.ecdsaSign(msgHash, priv);
        return { signature, recovery: recid };
      },
      recover: (msgHash, signature, recovery) => native.ecdsaRecover(signature, recovery, msgHash, false),
      verify(msgHash, signature, publicKey) {
        try {
          return native.ecdsaVerify(signature, msgHash, publicKey);
        } catch {
          return false;
        }
      },
      isValidPrivateKey: (priv) => priv.length === 32 && native.privateKeyVerify(priv),
      convertPublicKey: (pub, compressed) => native.publicKeyConvert(pub, compressed),
      sharedPoint: (priv, pub) =>
        native.ecdh(pub, priv, { hashfn: compressedPoint }, new Uint8Array(33)).slice(),
      combinePublicKeys: (pubs) => native.publicKeyCombine(pubs as Uint8Array[], true),
      multiplyPublicKey: (pub, scalar) => native.publicKeyTweakMul(pub, scalar, true),
    };
    return { backend };
  } catch (error) {
    return { error };
  }
}

const nativeLoad = loadNative();

/** The fastest secp256k1 implementation that loaded here. */
export const secp256k1: Secp256k1Backend = nativeLoad.backend ?? nobleSecp256k1;

type Keccak = (data: Uint8Array) => Uint8Array;

async function loadWasmKeccak(): Promise<{ fn?: Keccak; error?: unknown }> {
  if (process.env.DSEQ_CRYPTO === "noble") return { error: new Error("DSEQ_CRYPTO=noble") };
  try {
    const hasher = await createKeccak(256);
    const fn: Keccak = (data) => hasher.init().update(data).digest("binary");
    return { fn };
  } catch (error) {
    return { error };
  }
}

const wasmLoad = await loadWasmKeccak();

export const nobleKeccak256: Keccak = (data) => nobleKeccak(data);

/** Keccak-256 (Ethereum's hash, not FIPS SHA3-256): wasm when it loaded, noble otherwise. */
export const keccak256: Keccak = wasmLoad.fn ?? nobleKeccak256;

export type CryptoBackendInfo = {
  secp256k1: "native" | "noble";
  keccak: "wasm" | "noble";
  nativeError?: string;
  wasmError?: string;
};

export function cryptoBackend(): CryptoBackendInfo {
  const info: CryptoBackendInfo = { secp256k1: secp256k1.name, keccak: wasmLoad.fn ? "wasm" : "noble" };
  if (nativeLoad.error) info.nativeError = String(nativeLoad.error);
  if (wasmLoad.error) info.wasmError = String(wasmLoad.error);
  return info;
}

let reported = false;

/**
 * Says once, in the log, which implementations run: a warning when a slow fallback is in use
 * (the node keeps working, slower).
 */
export function logCryptoBackend(logger: Logger): void {
  if (reported) return;
  reported = true;
  const info = cryptoBackend();
  if (info.secp256k1 === "noble" || info.keccak === "noble") {
    logger.warn("fast crypto unavailable, using pure-JS fallback (slower)", { ...info });
  } else {
    logger.info("crypto backend", { secp256k1: info.secp256k1, keccak: info.keccak });
  }
}
