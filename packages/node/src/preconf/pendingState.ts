import { bytesToHex, type Hex } from "@dseq/common";
import { type Chain, type PendingReceipt, type PendingState, pendingReceipt } from "@dseq/l2-exec";
import type { PreconfStore } from "./store.ts";

/** The preconfirmed prefix executed on the head: its state and its transactions' receipts. */
export type PreconfirmedBuild = {
  /** The height the prefix opens (head + 1) and the proposer's timestamp for it. */
  height: bigint;
  timestamp: bigint;
  pending: PendingState;
  /** By transaction hash (lower case); a skipped transaction has none. */
  receipts: ReadonlyMap<Hex, PendingReceipt>;
};

/**
 * The preconfirmed state (ADR 0176): the committed head plus the longest preconfirmed prefix of
 * the next height (ADR 0173), executed on the head. What the `pending` tag reads: a balance, a
 * nonce or a call after what the proposer promised, and the receipt of a preconfirmed
 * transaction (ADR 0177). Built on demand, once per prefix (a new fragment or a new head builds
 * again), and shared by the reads that wait for it.
 */
export type PreconfirmedState = {
  /** The state after the preconfirmed transactions, or undefined (nothing preconfirmed on the head). */
  state(): Promise<PendingState | undefined>;
  /** The same build with its receipts, or undefined. */
  build(): Promise<PreconfirmedBuild | undefined>;
  /** Whether the current prefix on the head holds `txHash` (no build: a cheap guard for lookups). */
  holds(txHash: Hex): boolean;
};

export function createPreconfirmedState(d: {
  chain: Pick<Chain, "head" | "buildBlock">;
  store: Pick<PreconfStore, "longestPrefix">;
  /**
   * The fee recipient the proposer's block will have (its reward recipient), so that a receipt
   * of a transaction touching it (warm coinbase, EIP-3651) and the recipient's balance come out
   * as committed. Absent: the proposer's signer address (ADR 0176).
   */
  coinbase?: (height: number, signer: Hex) => Hex;
}): PreconfirmedState {
  let cached: { key: string; build: Promise<PreconfirmedBuild | undefined> } | undefined;
  const current = () => {
    const head = d.chain.head();
    const height = Number(head.header.number) + 1;
    const prefix = d.store.longestPrefix(height);
    if (!prefix || prefix.txs.length === 0 || prefix.parentHash !== bytesToHex(head.hash())) return undefined;
    return { head, prefix };
  };
  const build = (): Promise<PreconfirmedBuild | undefined> => {
    const c = current();
    if (c === undefined) return Promise.resolve(undefined);
    const { head, prefix } = c;
    const key = `${prefix.parentHash}/${prefix.round}/${prefix.txs.length}`;
    if (cached?.key !== key) {
      const receipts = new Map<Hex, PendingReceipt>();
      let i = 0;
      const source = {
        next: async () => prefix.txs[i++],
        included: (x: Parameters<typeof pendingReceipt>[0]) => {
          const r = pendingReceipt(x);
          receipts.set(r.transactionHash.toLowerCase() as Hex, r);
        },
      };
      const built = d.chain
        .buildBlock({
          parent: head,
          txs: source,
          timestamp: prefix.timestamp,
          coinbase: d.coinbase?.(prefix.height, prefix.signer) ?? prefix.signer,
        })
        .then(
          (b): PreconfirmedBuild => ({
            height: BigInt(prefix.height),
            timestamp: prefix.timestamp,
            pending: b.pending,
            receipts,
          }),
          () => undefined, // a prefix that does not build reads as the head
        );
      cached = { key, build: built };
    }
    return cached.build;
  };
  return {
    build,
    state: async () => (await build())?.pending,
    holds(txHash) {
      const h = txHash.toLowerCase();
      return current()?.prefix.txHashes.some((t) => t.toLowerCase() === h) ?? false;
    },
  };
}
