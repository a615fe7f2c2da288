import { keccak256, type Secp256k1Backend, secp256k1 } from "./backend.ts";
import { CryptoError, CryptoErrorCode } from "./errors.ts";

/** The 20-byte Ethereum address of a 64-byte (no prefix) or 65-byte uncompressed public key. */
export function publicKeyToAddress(publicKey: Uint8Array): Uint8Array {
  const raw = publicKey.length === 65 ? publicKey.subarray(1) : publicKey;
  if (raw.length !== 64) throw new TypeError(`expected a 64 or 65 byte public key, got ${publicKey.length}`);
  return keccak256(raw).slice(12);
}

export function privateKeyToAddress(privateKey: Uint8Array): Uint8Array {
  return publicKeyToAddress(secp256k1.getPublicKey(privateKey, false));
}

/** Recovery id from an Ethereum `v`: 0/1 (typed txs), 27/28, or EIP-155 `chainId * 2 + 35/36`. */
export function recoveryFromV(v: bigint, chainId?: bigint): number {
  let rec: bigint;
  if (v === 0n || v === 1n) rec = v;
  else if (chainId === undefined) rec = v - 27n;
  else rec = v - (chainId * 2n + 35n);
  if (rec !== 0n && rec !== 1n)
    throw new CryptoError(CryptoErrorCode.BadSignatureV, "Invalid signature v value");
  return Number(rec);
}

function pad32(b: Uint8Array): Uint8Array {
  if (b.length === 32) return b;
  if (b.length > 32)
    throw new CryptoError(
      CryptoErrorCode.SignatureComponentTooLong,
      "signature component longer than 32 bytes",
    );
  const out = new Uint8Array(32);
  out.set(b, 32 - b.length);
  return out;
}

/**
 * The object @ethereumjs takes as `Common`'s `customCrypto`, backed by the fastest
 * implementations that loaded (structurally typed: this package does not depend on
 * @ethereumjs). `ecsign` follows noble's `sign(hash, key, {format: "recovered"})` contract
 * that @ethereumjs/tx calls: 65 bytes, recovery byte first.
 */
export type EthereumCustomCrypto = {
  keccak256: (msg: Uint8Array) => Uint8Array;
  ecrecover: (msgHash: Uint8Array, v: bigint, r: Uint8Array, s: Uint8Array, chainId?: bigint) => Uint8Array;
  ecsign: (
    msgHash: Uint8Array,
    privateKey: Uint8Array,
    opts?: { format?: string },
  ) => Uint8Array<ArrayBuffer>;
  ecdsaRecover: (sig: Uint8Array, recId: number, hash: Uint8Array) => Uint8Array;
};

const made = new WeakMap<Secp256k1Backend, EthereumCustomCrypto>();

/**
 * The `customCrypto` for @ethereumjs on `backend`. One object per backend: @ethereumjs and
 * l2-exec compare `ecrecover` by identity to tell whether a transaction decoded elsewhere (the
 * pool) already runs on this chain's crypto, and keep its cached sender when it does.
 */
export function createEthereumCrypto(backend: Secp256k1Backend = secp256k1): EthereumCustomCrypto {
  let c = made.get(backend);
  if (!c) {
    c = makeEthereumCrypto(backend);
    made.set(backend, c);
  }
  return c;
}

function makeEthereumCrypto(backend: Secp256k1Backend): EthereumCustomCrypto {
  return {
    keccak256,
    ecrecover(msgHash, v, r, s, chainId) {
      const sig = new Uint8Array(64);
      sig.set(pad32(r), 0);
      sig.set(pad32(s), 32);
      // @ethereumjs expects the 64-byte public key without the 0x04 prefix.
      return backend.recover(msgHash, sig, recoveryFromV(v, chainId)).slice(1);
    },
    ecsign(msgHash, privateKey, opts) {
      if (opts?.format !== undefined && opts.format !== "recovered") {
        throw new CryptoError(
          CryptoErrorCode.UnsupportedSignatureFormat,
          `ecsign: only the "recovered" format is supported, got ${opts.format}`,
        );
      }
      const { signature, recovery } = backend.sign(msgHash, privateKey);
      const out = new Uint8Array(new ArrayBuffer(65));
      out[0] = recovery;
      out.set(signature, 1);
      return out;
    },
    ecdsaRecover(sig, recId, hash) {
      return backend.recover(hash, sig.subarray(0, 64), recId);
    },
  };
}
