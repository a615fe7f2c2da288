import type { PartyId } from "../identity.ts";

/** One inbound message, with the sender as authenticated by the transport. */
export type TransportMessage = { from: PartyId; data: Uint8Array };

/**
 * What the TSS protocols need from the network. Delivery is best effort (messages may be
 * lost, delayed or reordered): the sessions retransmit until they are done. `send` to the
 * local party must be delivered locally. `from` must be the authenticated peer (the p2p layer
 * binds peer identity to the sequencer key); protocol messages that must convince third
 * parties (confirmations, complaints) carry their own signatures on top.
 */
export interface TssTransport {
  readonly self: PartyId;
  /** To every other member of the group. */
  broadcast(data: Uint8Array): void;
  /** To one party (possibly the local one). */
  send(to: PartyId, data: Uint8Array): void;
  /** Returns the unsubscribe function. Handlers must not throw; they may be called re-entrantly. */
  subscribe(handler: (msg: TransportMessage) => void): () => void;
}
