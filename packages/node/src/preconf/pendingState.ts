import { bytesToHex } from "@dseq/common";
import type { Chain, PendingState } from "@dseq/l2-exec";
import type { PreconfStore } from "./store.ts";

/**
 * The preconfirmed state (ADR 0176): the committed head plus the longest preconfirmed prefix of
 * the next height (ADR 0173), executed on the head. What the `pending` tag reads: a balance, a
 * nonce or a call after what the proposer promised. Built on demand, once per prefix (a new
 * fragment or a new head builds again), and shared by the reads that wait for it.
 */
export type PreconfirmedState = {
  /** The state after the preconfirmed transactions, or undefined (nothing preconfirmed on the head). */
  state(): Promise<PendingState | undefined>;
};

export function createPreconfirmedState(d: {
  chain: Pick<Chain, "head" | "buildBlock">;
  store: Pick<PreconfStore, "longestPrefix">;
}): PreconfirmedState {
  let cached: { key: string; state: Promise<PendingState | undefined> } | undefined;
  return {
    state() {
      const head = d.chain.head();
      const height = Number(head.header.number) + 1;
      const prefix = d.store.longestPrefix(height);
      if (!prefix || prefix.txs.length === 0 || prefix.parentHash !== bytesToHex(head.hash()))
        return Promise.resolve(undefined);
      const key = `${prefix.parentHash}/${prefix.round}/${prefix.txs.length}`;
      if (cached?.key !== key) {
        const state = d.chain
          .buildBlock({ parent: head, txs: prefix.txs, timestamp: prefix.timestamp, coinbase: prefix.signer })
          .then(
            (built) => built.pending,
            () => undefined, // a prefix that does not build reads as the head
          );
        cached = { key, state };
      }
      return cached.state;
    },
  };
}
