import { createCipheriv, createDecipheriv, pbkdf2, randomBytes, randomUUID, scrypt } from "node:crypto";
import { bytesToHex, concatBytes, equalBytes, hexToBytes } from "@dseq/common";
import { keccak256, privateKeyToAddress, secp256k1 } from "@dseq/crypto";
import { NodeError, NodeErrorCode } from "./errors.ts";

/** Ethereum keystore v3 (the format geth, clef and MetaMask read). */
export type KeystoreV3 = {
  version: 3;
  id: string;
  address?: string;
  crypto: {
    cipher: "aes-128-ctr";
    cipherparams: { iv: string };
    ciphertext: string;
    kdf: "scrypt" | "pbkdf2";
    kdfparams: ScryptParams | Pbkdf2Params;
    mac: string;
  };
};

type ScryptParams = { dklen: number; n: number; r: number; p: number; salt: string };
type Pbkdf2Params = { dklen: number; c: number; prf: "hmac-sha256"; salt: string };

export class KeystoreError extends NodeError {
  constructor(code: NodeErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { details });
    this.name = "KeystoreError";
  }
}

/** geth's parameters: "standard" for real keys, "light" for devnets and tests. */
export const SCRYPT_STANDARD = { n: 1 << 18, r: 8, p: 1 } as const;
export const SCRYPT_LIGHT = { n: 1 << 12, r: 8, p: 6 } as const;

// Refuse parameters that would take minutes or gigabytes: a keystore is untrusted input.
const MAX_SCRYPT_N = 1 << 20;
const MAX_PBKDF2_C = 10_000_000;

function scryptAsync(password: string, salt: Uint8Array, p: ScryptParams): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    scrypt(
      password,
      salt,
      p.dklen,
      { N: p.n, r: p.r, p: p.p, maxmem: 256 * p.n * p.r + (64 << 20) },
      (err, key) => (err ? reject(err) : resolve(new Uint8Array(key))),
    );
  });
}

function pbkdf2Async(password: string, salt: Uint8Array, p: Pbkdf2Params): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, p.c, p.dklen, "sha256", (err, key) =>
      err ? reject(err) : resolve(new Uint8Array(key)),
    );
  });
}

function hexField(obj: Record<string, unknown>, field: string, where: string): Uint8Array {
  const v = obj[field];
  if (typeof v !== "string" || !/^(0x)?([0-9a-fA-F]{2})*$/.test(v)) {
    throw new KeystoreError(NodeErrorCode.KeystoreCorrupt, `keystore: ${where}.${field} is not a hex string`);
  }
  return hexToBytes(v.startsWith("0x") ? v : `0x${v}`);
}

function intField(obj: Record<string, unknown>, field: string, where: string): number {
  const v = obj[field];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) {
    throw new KeystoreError(
      NodeErrorCode.KeystoreCorrupt,
      `keystore: ${where}.${field} must be a positive integer`,
    );
  }
  return v;
}

async function deriveKey(crypto: Record<string, unknown>, password: string): Promise<Uint8Array> {
  const kdf = crypto.kdf;
  const params = crypto.kdfparams;
  if (typeof params !== "object" || params === null) {
    throw new KeystoreError(NodeErrorCode.KeystoreCorrupt, "keystore: crypto.kdfparams is missing");
  }
  const kp = params as Record<string, unknown>;
  const salt = hexField(kp, "salt", "kdfparams");
  const dklen = intField(kp, "dklen", "kdfparams");
  if (dklen < 32)
    throw new KeystoreError(NodeErrorCode.KeystoreCorrupt, "keystore: kdfparams.dklen must be at least 32");
  if (kdf === "scrypt") {
    const n = intField(kp, "n", "kdfparams");
    const r = intField(kp, "r", "kdfparams");
    const p = intField(kp, "p", "kdfparams");
    // RFC 7914: N is a power of two greater than 1 and less than 2^(128*r/8).
    const validN = n > 1 && (n & (n - 1)) === 0 && Math.log2(n) < 16 * r;
    if (!validN || n > MAX_SCRYPT_N || r * p >= 1 << 30) {
      throw new KeystoreError(
        NodeErrorCode.KeystoreBadKdfParams,
        `keystore: scrypt parameters n=${n} r=${r} p=${p} are invalid (RFC 7914 needs N a power of two below 2^(16*r), and dseq caps N at 2^20)`,
        { n, r, p },
      );
    }
    return scryptAsync(password, salt, { n, r, p, dklen, salt: "" });
  }
  if (kdf === "pbkdf2") {
    const c = intField(kp, "c", "kdfparams");
    if (kp.prf !== "hmac-sha256") {
      throw new KeystoreError(
        NodeErrorCode.KeystoreUnsupported,
        `keystore: pbkdf2 prf ${String(kp.prf)} is not supported`,
      );
    }
    if (c > MAX_PBKDF2_C)
      throw new KeystoreError(NodeErrorCode.KeystoreBadKdfParams, `keystore: pbkdf2 c=${c} is too large`);
    return pbkdf2Async(password, salt, { c, dklen, prf: "hmac-sha256", salt: "" });
  }
  throw new KeystoreError(
    NodeErrorCode.KeystoreUnsupported,
    `keystore: kdf ${String(kdf)} is not supported (scrypt, pbkdf2)`,
  );
}

/**
 * Decrypts a keystore v3 JSON (object or text) with `password`. Throws a KeystoreError with
 * code KEYSTORE_WRONG_PASSWORD when the MAC does not match (geth's "could not decrypt key
 * with given password"), KEYSTORE_CORRUPT for malformed files.
 */
export async function decryptKeystore(input: string | unknown, password: string): Promise<Uint8Array> {
  let json: unknown = input;
  if (typeof input === "string") {
    try {
      json = JSON.parse(input);
    } catch {
      throw new KeystoreError(NodeErrorCode.KeystoreCorrupt, "keystore: not valid JSON");
    }
  }
  if (typeof json !== "object" || json === null)
    throw new KeystoreError(NodeErrorCode.KeystoreCorrupt, "keystore: not an object");
  const ks = json as Record<string, unknown>;
  if (ks.version !== 3)
    throw new KeystoreError(
      NodeErrorCode.KeystoreUnsupported,
      `keystore: version ${String(ks.version)} is not 3`,
    );
  const crypto = (ks.crypto ?? ks.Crypto) as Record<string, unknown> | undefined;
  if (typeof crypto !== "object" || crypto === null)
    throw new KeystoreError(NodeErrorCode.KeystoreCorrupt, "keystore: crypto is missing");
  if (crypto.cipher !== "aes-128-ctr") {
    throw new KeystoreError(
      NodeErrorCode.KeystoreUnsupported,
      `keystore: cipher ${String(crypto.cipher)} is not supported`,
    );
  }
  const ciphertext = hexField(crypto, "ciphertext", "crypto");
  const mac = hexField(crypto, "mac", "crypto");
  const cipherparams = crypto.cipherparams as Record<string, unknown> | undefined;
  if (typeof cipherparams !== "object" || cipherparams === null) {
    throw new KeystoreError(NodeErrorCode.KeystoreCorrupt, "keystore: crypto.cipherparams is missing");
  }
  const iv = hexField(cipherparams, "iv", "cipherparams");
  if (iv.length !== 16)
    throw new KeystoreError(NodeErrorCode.KeystoreCorrupt, "keystore: cipherparams.iv must be 16 bytes");

  const derived = await deriveKey(crypto, password);
  const expected = keccak256(concatBytes(derived.subarray(16, 32), ciphertext));
  if (!equalBytes(expected, mac)) {
    throw new KeystoreError(NodeErrorCode.KeystoreWrongPassword, "could not decrypt key with given password");
  }
  const decipher = createDecipheriv("aes-128-ctr", derived.subarray(0, 16), iv);
  let priv = new Uint8Array(Buffer.concat([decipher.update(ciphertext), decipher.final()]));
  if (priv.length < 32) {
    const padded = new Uint8Array(32);
    padded.set(priv, 32 - priv.length);
    priv = padded;
  }
  if (priv.length !== 32 || !secp256k1.isValidPrivateKey(priv)) {
    throw new KeystoreError(
      NodeErrorCode.KeystoreCorrupt,
      "keystore: decrypted data is not a valid secp256k1 private key",
    );
  }
  if (typeof ks.address === "string" && ks.address.length > 0) {
    const want = ks.address.toLowerCase().replace(/^0x/, "");
    const got = bytesToHex(privateKeyToAddress(priv)).slice(2);
    if (want !== got)
      throw new KeystoreError(
        NodeErrorCode.KeystoreCorrupt,
        "keystore: key does not match the address field",
      );
  }
  return priv;
}

export type EncryptOptions = {
  /** scrypt cost; defaults to geth's standard (n = 2^18, r = 8, p = 1). */
  scrypt?: { n: number; r: number; p: number };
};

/** Encrypts a private key into keystore v3 JSON (scrypt + AES-128-CTR + keccak MAC). */
export async function encryptKeystore(
  privateKey: Uint8Array,
  password: string,
  opts: EncryptOptions = {},
): Promise<KeystoreV3> {
  if (!secp256k1.isValidPrivateKey(privateKey)) {
    throw new KeystoreError(NodeErrorCode.KeystoreBadKey, "not a valid secp256k1 private key");
  }
  const { n, r, p } = opts.scrypt ?? SCRYPT_STANDARD;
  const salt = new Uint8Array(randomBytes(32));
  const iv = new Uint8Array(randomBytes(16));
  const params: ScryptParams = { dklen: 32, n, r, p, salt: bytesToHex(salt).slice(2) };
  const derived = await scryptAsync(password, salt, params);
  const cipher = createCipheriv("aes-128-ctr", derived.subarray(0, 16), iv);
  const ciphertext = new Uint8Array(Buffer.concat([cipher.update(privateKey), cipher.final()]));
  const mac = keccak256(concatBytes(derived.subarray(16, 32), ciphertext));
  return {
    version: 3,
    id: randomUUID(),
    address: bytesToHex(privateKeyToAddress(privateKey)).slice(2),
    crypto: {
      cipher: "aes-128-ctr",
      cipherparams: { iv: bytesToHex(iv).slice(2) },
      ciphertext: bytesToHex(ciphertext).slice(2),
      kdf: "scrypt",
      kdfparams: params,
      mac: bytesToHex(mac).slice(2),
    },
  };
}

/** EIP-55 mixed-case checksum form of a 20-byte address. */
export function toChecksumAddress(address: string): string {
  const lower = address.toLowerCase().replace(/^0x/, "");
  const hash = bytesToHex(keccak256(new TextEncoder().encode(lower))).slice(2);
  let out = "0x";
  for (let i = 0; i < lower.length; i++) {
    const c = lower[i] as string;
    out += Number.parseInt(hash[i] as string, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

/** What `dseq init` and `dseq key show` print: never the private key. */
export type KeyInfo = { address: string; publicKey: string };

export function keyInfo(privateKey: Uint8Array): KeyInfo {
  const pub = secp256k1.getPublicKey(privateKey, false);
  return {
    address: toChecksumAddress(bytesToHex(privateKeyToAddress(privateKey))),
    // 64 bytes without the 04 prefix: the form the L1 locking pool takes.
    publicKey: bytesToHex(pub.subarray(1)),
  };
}
