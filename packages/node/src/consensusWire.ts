import { type ConsensusMessage, decodeConsensusMessage, encodeConsensusMessage } from "@dseq/pos-consensus";
import { NodeError, NodeErrorCode } from "./errors.ts";

/**
 * Gossip envelope of a consensus message: version (1 byte, = 1) || publish sequence number
 * (8 bytes, big-endian) || the pos-consensus encoding. Gossip ids are content hashes, so the
 * driver's periodic rebroadcast of the same vote would be dropped as a duplicate by the
 * publisher's own seen-cache, and a message first published before the mesh formed would
 * never arrive (with two validators that stalls a height for good). The sequence number makes
 * each publish a new gossip message; forwarded copies keep the same bytes and are still
 * deduplicated, and repeated votes are dropped by the vote sets. It is not signed: it carries
 * no meaning.
 */
export const CONSENSUS_ENVELOPE_VERSION = 1;
const HEADER = 9;

let sequence = 0n;

export function encodeConsensusEnvelope(msg: ConsensusMessage): Uint8Array {
  const body = encodeConsensusMessage(msg);
  const out = new Uint8Array(HEADER + body.length);
  out[0] = CONSENSUS_ENVELOPE_VERSION;
  sequence = (sequence + 1n) & 0xffff_ffff_ffff_ffffn;
  new DataView(out.buffer).setBigUint64(1, sequence);
  out.set(body, HEADER);
  return out;
}

export function decodeConsensusEnvelope(data: Uint8Array, maxBytes?: number): ConsensusMessage {
  if (data.length <= HEADER || data[0] !== CONSENSUS_ENVELOPE_VERSION) {
    throw new NodeError(NodeErrorCode.BadEnvelope, "not a v1 consensus envelope");
  }
  return decodeConsensusMessage(data.subarray(HEADER), maxBytes);
}
