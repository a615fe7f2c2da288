import type { Hex } from "@dseq/common";
import type { BlockWithCertificate } from "./wire.ts";

/** The verdict of a topic validator, mapped onto gossipsub's accept / ignore / reject. */
export type Verdict = "accept" | "ignore" | "reject";

/** Which validators exist: a `Set<Hex>` of lower-case addresses satisfies it. */
export type ValidatorSetView = { has(address: Hex): boolean };

export type ChainHead = { height: bigint; hash: Uint8Array };

/** What p2p needs from the chain store: the head for `status`, committed blocks for sync. */
export interface BlockSource {
  head(): ChainHead | Promise<ChainHead>;
  /** Up to `count` consecutive blocks from `from`; fewer (or none) when the store ends sooner. */
  getRange(from: bigint, count: number): BlockWithCertificate[] | Promise<BlockWithCertificate[]>;
}

export type MessageSource = {
  /** The peer that delivered the message (with StrictNoSign there is no author on the wire). */
  peer: string;
  validator: Hex | undefined;
};

export type TopicHandler<T> = {
  /** Parses the bytes; a throw rejects the message. Runs only on data within the topic's size limit. */
  decode(data: Uint8Array): T;
  /** Judges a decoded message; a throw counts as ignore (our fault, not the sender's). */
  validate?(msg: T, from: MessageSource): Verdict | Promise<Verdict>;
  /** Receives accepted messages. */
  onMessage(msg: T, from: MessageSource): void;
};

export type PeerState = "handshaking" | "ready";

export type PeerInfo = {
  peerId: string;
  /** Remote multiaddr of the (first) connection. */
  addr: string;
  direction: "inbound" | "outbound";
  /** Ethereum address bound to the peer's key (every secp256k1 peer has one). */
  address: Hex | undefined;
  /** Compressed secp256k1 public key (mpc-tss's party id). */
  publicKey: Hex | undefined;
  /** Whether that address is in the validator set now. */
  isValidator: boolean;
  state: PeerState;
  /** Round-trip time of the last ping, ms. */
  latencyMs: number | undefined;
  /** Gossipsub score as this node sees it. */
  score: number;
  headHeight: bigint | undefined;
  connectedAt: number;
};

export type P2pEvents = {
  "p2p.peer.connected": { peerId: string; address: Hex | undefined; isValidator: boolean; direction: string };
  "p2p.peer.ready": { peerId: string; headHeight: bigint };
  /** A ready peer's head moved (periodic status refresh). */
  "p2p.peer.head": { peerId: string; headHeight: bigint };
  "p2p.peer.disconnected": { peerId: string };
  "p2p.peer.refused": { peerId: string; reason: string };
  "p2p.peer.banned": { peerId: string; reason: string; untilMs: number };
};
