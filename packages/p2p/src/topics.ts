import { hash } from "node:crypto";

/**
 * Gossip topics, namespaced by chain id and versioned: `/dseq/<chainId>/<kind>/<version>`.
 * Proposals and votes are separate topics so each gets its own size limit and score weight.
 */
export const TOPIC_KINDS = ["tx", "proposal", "vote", "tss"] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

export const TOPIC_VERSION = 1;

export function topicName(chainId: bigint, kind: TopicKind): string {
  return `/dseq/${chainId}/${kind}/${TOPIC_VERSION}`;
}

/** Size limits per topic (bytes of one gossip message's data). */
export const defaultTopicLimits: Record<TopicKind, number> = {
  tx: 1024 * 1024,
  proposal: 4 * 1024 * 1024,
  vote: 16 * 1024,
  tss: 1024 * 1024,
};

const MSG_ID_BYTES = 20;

/**
 * Content-hash message id: sha256(len(topic) || topic || data)[:20], the shape Ethereum's
 * consensus network uses with StrictNoSign. Native sha256 keeps it cheap for 100 KB messages.
 */
export function messageId(topic: string, data: Uint8Array): Uint8Array {
  const t = Buffer.from(topic, "utf8");
  const buf = Buffer.allocUnsafe(4 + t.length + data.length);
  buf.writeUInt32BE(t.length, 0);
  t.copy(buf, 4);
  buf.set(data, 4 + t.length);
  // one-shot hash: cheaper than createHash() for the many small messages (votes)
  const digest = hash("sha256", buf, "buffer");
  return new Uint8Array(digest.buffer, digest.byteOffset, MSG_ID_BYTES);
}

export function messageIdToString(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString("base64");
}
