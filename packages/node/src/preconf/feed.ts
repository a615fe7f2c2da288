import { bytesToHex } from "@dseq/common";
import type { JsonObject, Preconfirmation, PreconfSource } from "@dseq/rpc";
import type { PreconfFragment } from "./store.ts";

/** Most listeners a feed holds (WebSocket subscriptions share one; sendRawSync calls add one each). */
const MAX_LISTENERS = 10_000;

/** The fragment as the RPC's preconfirmation message: its signature is the wire's last 65 bytes. */
export function preconfirmationOf(
  f: PreconfFragment,
  receipts: JsonObject[],
  gasUsed?: bigint,
): Preconfirmation {
  return {
    blockNumber: BigInt(f.height),
    round: f.round,
    index: f.seq,
    last: f.last,
    parentHash: f.parentHash,
    timestamp: f.timestamp,
    proposer: f.signer,
    signature: bytesToHex(f.raw.subarray(f.raw.length - 65)),
    fragment: bytesToHex(f.raw),
    transactions: f.txs.map((t) => bytesToHex(t)),
    receipts,
    ...(gasUsed !== undefined ? { gasUsed } : {}),
  };
}

/** The node's PreconfSource: it `emit`s, the RPC subscribes. A listener that throws is dropped. */
export function createPreconfFeed(): {
  source: PreconfSource;
  emit(p: Preconfirmation): void;
  readonly listeners: number;
} {
  const listeners = new Set<(p: Preconfirmation) => void>();
  return {
    source: {
      subscribe(listener) {
        if (listeners.size >= MAX_LISTENERS) return () => {};
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    },
    emit(p) {
      for (const l of [...listeners]) {
        try {
          l(p);
        } catch {
          listeners.delete(l);
        }
      }
    },
    get listeners() {
      return listeners.size;
    },
  };
}
