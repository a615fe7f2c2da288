import { type Hex, hexToBytes, utf8ToBytes } from "@dseq/common";
import { MsgType, type UnsignedProposal, type UnsignedVote } from "./types.ts";

/** Domain tag: no other dseq signature (transactions, FROST batches, p2p) starts with it. */
export const SIGN_DOMAIN = utf8ToBytes("dseq.consensus.v1");

/** Total length of the sign bytes: tag, chain id, type, height, round, pol round, hash flag, hash. */
export const SIGN_BYTES_LENGTH = SIGN_DOMAIN.length + 8 + 1 + 8 + 4 + 4 + 1 + 32;

/**
 * The bytes a validator signs, fixed layout, big-endian (ADR 0050):
 *
 * | bytes | field                                                        |
 * | ----- | ------------------------------------------------------------ |
 * | 17    | `dseq.consensus.v1` (domain tag)                             |
 * | 8     | chain id (u64)                                               |
 * | 1     | type: 1 prevote, 2 precommit, 32 proposal                    |
 * | 8     | height (u64)                                                 |
 * | 4     | round (u32)                                                  |
 * | 4     | proposal: pol round + 1 (u32, 0 = none); votes: 0            |
 * | 1     | 0 = nil, 1 = block                                           |
 * | 32    | block hash (zeros for nil)                                   |
 *
 * The signature is secp256k1 ECDSA over keccak256 of these bytes.
 */
export function signBytes(
  chainId: bigint,
  type: number,
  height: number,
  round: number,
  polRound: number,
  blockHash: Hex | null,
): Uint8Array {
  if (chainId < 0n || chainId >= 1n << 64n) throw new RangeError(`chain id out of range: ${chainId}`);
  if (!Number.isSafeInteger(height) || height < 0) throw new RangeError(`bad height: ${height}`);
  if (!Number.isInteger(round) || round < 0 || round > 0xfffffffe)
    throw new RangeError(`bad round: ${round}`);
  if (
    !Number.isInteger(polRound) ||
    polRound < -1 ||
    polRound >= round + (type === MsgType.Proposal ? 0 : 1)
  ) {
    throw new RangeError(`bad pol round: ${polRound}`);
  }
  const out = new Uint8Array(SIGN_BYTES_LENGTH);
  const view = new DataView(out.buffer);
  out.set(SIGN_DOMAIN, 0);
  let o = SIGN_DOMAIN.length;
  view.setBigUint64(o, chainId);
  o += 8;
  view.setUint8(o, type);
  o += 1;
  view.setBigUint64(o, BigInt(height));
  o += 8;
  view.setUint32(o, round);
  o += 4;
  view.setUint32(o, polRound + 1);
  o += 4;
  if (blockHash !== null) {
    const h = hexToBytes(blockHash);
    if (h.length !== 32) throw new RangeError(`block hash must be 32 bytes, got ${h.length}`);
    view.setUint8(o, 1);
    out.set(h, o + 1);
  }
  return out;
}

export function voteSignBytes(chainId: bigint, vote: UnsignedVote): Uint8Array {
  return signBytes(chainId, vote.type, vote.height, vote.round, -1, vote.blockHash);
}

export function proposalSignBytes(chainId: bigint, proposal: UnsignedProposal): Uint8Array {
  return signBytes(
    chainId,
    MsgType.Proposal,
    proposal.height,
    proposal.round,
    proposal.polRound,
    proposal.blockHash,
  );
}
