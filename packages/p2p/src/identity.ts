import type { Hex } from "@dseq/common";
import { bytesToHex } from "@dseq/common";
import { privateKeyFromRaw, publicKeyFromRaw } from "@libp2p/crypto/keys";
import type { PeerId, Secp256k1PrivateKey, Secp256k1PublicKey } from "@libp2p/interface";
import { peerIdFromPrivateKey, peerIdFromPublicKey, peerIdFromString } from "@libp2p/peer-id";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { P2pError, P2pErrorCode } from "./errors.ts";

/**
 * The libp2p identity of a node is its secp256k1 sequencer key, so a peer id names a validator:
 * a secp256k1 peer id inlines the compressed public key (identity multihash), from which the
 * Ethereum address follows.
 */
export function sequencerKeyToPrivateKey(raw: Uint8Array): Secp256k1PrivateKey {
  if (raw.length !== 32) {
    throw new P2pError(P2pErrorCode.BadKey, "sequencer key must be 32 raw secp256k1 bytes", {
      details: { length: raw.length },
    });
  }
  const key = privateKeyFromRaw(raw);
  if (key.type !== "secp256k1") throw new P2pError(P2pErrorCode.BadKey, "not a secp256k1 key");
  return key;
}

/** Ethereum address of a secp256k1 public key (compressed or uncompressed), lower-case hex. */
export function publicKeyToAddress(publicKey: Uint8Array): Hex {
  const uncompressed = secp256k1.Point.fromBytes(publicKey).toBytes(false);
  return bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12));
}

/** The peer id of a sequencer key. */
export function sequencerKeyToPeerId(raw: Uint8Array): PeerId {
  return peerIdFromPrivateKey(sequencerKeyToPrivateKey(raw));
}

/**
 * The validator address a peer id stands for, or undefined when the peer id does not carry a
 * secp256k1 key (such a peer can never be a validator).
 */
export function peerIdToAddress(peer: PeerId | string): Hex | undefined {
  let id: PeerId;
  try {
    id = typeof peer === "string" ? peerIdFromString(peer) : peer;
  } catch {
    return undefined;
  }
  if (id.type !== "secp256k1" || id.publicKey === undefined) return undefined;
  return publicKeyToAddress(id.publicKey.raw);
}

/**
 * The compressed secp256k1 public key (0x + 33 bytes) a peer id carries: mpc-tss's party id.
 * Undefined for peers without a secp256k1 key.
 */
export function peerIdToPublicKey(peer: PeerId | string): Hex | undefined {
  let id: PeerId;
  try {
    id = typeof peer === "string" ? peerIdFromString(peer) : peer;
  } catch {
    return undefined;
  }
  if (id.type !== "secp256k1" || id.publicKey === undefined) return undefined;
  return bytesToHex(id.publicKey.raw);
}

/** The peer id of a secp256k1 public key (33-byte compressed or 65-byte uncompressed). */
export function publicKeyToPeerId(publicKey: Uint8Array): PeerId {
  const compressed = secp256k1.Point.fromBytes(publicKey).toBytes(true);
  const key = publicKeyFromRaw(compressed) as Secp256k1PublicKey;
  return peerIdFromPublicKey(key);
}
