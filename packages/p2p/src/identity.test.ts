import { hexToBytes } from "@dseq/common";
import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { describe, expect, it } from "vitest";
import {
  peerIdToAddress,
  peerIdToPublicKey,
  publicKeyToAddress,
  publicKeyToPeerId,
  sequencerKeyToPeerId,
  sequencerKeyToPrivateKey,
} from "./identity.ts";

// Hardhat's first default account: a widely published key/address pair.
const HARDHAT_KEY = hexToBytes("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
const HARDHAT_ADDRESS = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";

describe("identity", () => {
  it("maps a sequencer key to its Ethereum address through the peer id", () => {
    const peerId = sequencerKeyToPeerId(HARDHAT_KEY);
    expect(peerId.type).toBe("secp256k1");
    expect(peerIdToAddress(peerId)).toBe(HARDHAT_ADDRESS);
    expect(peerIdToAddress(peerId.toString())).toBe(HARDHAT_ADDRESS);
  });

  it("private key 1 gives the well-known address", () => {
    const one = new Uint8Array(32);
    one[31] = 1;
    expect(peerIdToAddress(sequencerKeyToPeerId(one))).toBe("0x7e5f4552091a69125d5dfcb7b8c2659029395bdf");
  });

  it("maps a public key back to the same peer id, compressed or not", () => {
    const key = secp256k1.utils.randomSecretKey();
    const peerId = sequencerKeyToPeerId(key);
    expect(publicKeyToPeerId(secp256k1.getPublicKey(key, true)).equals(peerId)).toBe(true);
    expect(publicKeyToPeerId(secp256k1.getPublicKey(key, false)).equals(peerId)).toBe(true);
    expect(publicKeyToAddress(secp256k1.getPublicKey(key, false))).toBe(peerIdToAddress(peerId));
    expect(peerIdToPublicKey(peerId)).toBe(
      `0x${Buffer.from(secp256k1.getPublicKey(key, true)).toString("hex")}`,
    );
  });

  it("the libp2p key signs with the same key", () => {
    const key = sequencerKeyToPrivateKey(HARDHAT_KEY);
    expect(Buffer.from(key.raw).equals(Buffer.from(HARDHAT_KEY))).toBe(true);
  });

  it("rejects keys that are not 32 bytes and peers that carry no secp256k1 key", async () => {
    expect(() => sequencerKeyToPrivateKey(new Uint8Array(31))).toThrow(/32 raw/);
    const ed = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
    expect(peerIdToAddress(ed)).toBeUndefined();
    expect(peerIdToAddress("not a peer id")).toBeUndefined();
  });
});
