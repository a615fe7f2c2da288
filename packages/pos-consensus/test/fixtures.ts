// Test fixtures: deterministic validator keys and synchronous signing of consensus messages.
import { bytesToHex, type Hex, uintToBytes } from "@dseq/common";
import { keccak256, secp256k1 } from "@dseq/crypto";
import type { CoreConfig } from "../src/consensusCore.ts";
import { proposalSignBytes, voteSignBytes } from "../src/signBytes.ts";
import { createCachedVerifier } from "../src/signer.ts";
import {
  type Block,
  type CommitCertificate,
  defaultTimeouts,
  MsgType,
  type Proposal,
  type Vote,
  type VoteType,
} from "../src/types.ts";
import { type HeightValidators, staticHeightValidators, ValidatorSet } from "../src/validatorSet.ts";

export const CHAIN_ID = 901n;

export type TestValidators = {
  set: ValidatorSet;
  /** Private keys in the set's (address) order. */
  keys: Uint8Array[];
  addresses: Hex[];
  keyOf(address: Hex): Uint8Array;
};

export function makeValidators(n: number, seed = 1, powers?: number[]): TestValidators {
  const raw = Array.from({ length: n }, (_, i) => keccak256(uintToBytes(BigInt(seed * 1000 + i + 1), 32)));
  const set = new ValidatorSet(
    raw.map((k, i) => ({ publicKey: secp256k1.getPublicKey(k, false), power: powers?.[i] ?? 1 })),
  );
  const byAddr = new Map<Hex, Uint8Array>();
  for (const k of raw) {
    const pub = secp256k1.getPublicKey(k, false);
    const v = set.validators.find((x) => bytesToHex(x.publicKey) === bytesToHex(pub))!;
    byAddr.set(v.address, k);
  }
  const addresses = set.validators.map((v) => v.address);
  return {
    set,
    keys: addresses.map((a) => byAddr.get(a)!),
    addresses,
    keyOf: (a) => byAddr.get(a)!,
  };
}

export function roundRobin(set: ValidatorSet, height: number): HeightValidators {
  return staticHeightValidators(set, height, "roundRobin");
}

export function coreConfig(self: Hex | null, overrides: Partial<CoreConfig> = {}): CoreConfig {
  return {
    chainId: CHAIN_ID,
    self,
    timeouts: defaultTimeouts,
    verify: createCachedVerifier(),
    maxRoundsAhead: 64,
    ...overrides,
  };
}

export function makeBlock(tag: string): Block {
  const payload = new TextEncoder().encode(tag);
  return { hash: bytesToHex(keccak256(payload)), payload };
}

export function signVote(
  key: Uint8Array,
  validator: Hex,
  type: VoteType,
  height: number,
  round: number,
  blockHash: Hex | null,
): Vote {
  const unsigned = { type, height, round, blockHash, validator };
  const sig = secp256k1.sign(keccak256(voteSignBytes(CHAIN_ID, unsigned)), key).signature;
  return { ...unsigned, signature: bytesToHex(sig) };
}

export function signProposal(
  key: Uint8Array,
  proposer: Hex,
  height: number,
  round: number,
  polRound: number,
  blockHash: Hex,
): Proposal {
  const unsigned = { height, round, polRound, blockHash, proposer };
  const sig = secp256k1.sign(keccak256(proposalSignBytes(CHAIN_ID, unsigned)), key).signature;
  return { ...unsigned, signature: bytesToHex(sig) };
}

/** Votes of validators `who` (indices) for one value. */
export function votesOf(
  tv: TestValidators,
  who: number[],
  type: VoteType,
  height: number,
  round: number,
  blockHash: Hex | null,
): Vote[] {
  return who.map((i) => signVote(tv.keys[i]!, tv.addresses[i]!, type, height, round, blockHash));
}

export function certificateOf(
  tv: TestValidators,
  who: number[],
  height: number,
  round: number,
  blockHash: Hex,
): CommitCertificate {
  return {
    height,
    round,
    blockHash,
    signatures: votesOf(tv, who, MsgType.Precommit, height, round, blockHash).map((v) => ({
      validator: v.validator,
      signature: v.signature,
    })),
  };
}
