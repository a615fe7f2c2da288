import type { CommittedBlock, CommittedBlockSource } from "@dseq/batch-submitter";
import { bytesToHex } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import { decodeBlockEntries } from "../l1Entries.ts";

/** The batch submitter's and the signers' view of the chain store: committed blocks are final. */
export function chainCommittedBlocks(chain: Pick<Chain, "head" | "getBlockByNumber">): CommittedBlockSource {
  return {
    head: async () => chain.head().header.number,
    async block(n) {
      const b = await chain.getBlockByNumber(n);
      if (!b) return undefined;
      const h = b.header;
      // The verifier takes this many entries from its own L1 view (ADR 0180).
      const entries = decodeBlockEntries(b.withdrawals);
      if (!entries.ok)
        throw new Error(`committed block ${h.number} has malformed L1 entries: ${entries.reason}`);
      const out: CommittedBlock = {
        number: h.number,
        hash: bytesToHex(b.hash()),
        parentHash: bytesToHex(h.parentHash),
        timestamp: h.timestamp,
        coinbase: h.coinbase.toString() as CommittedBlock["coinbase"],
        stateRoot: bytesToHex(h.stateRoot),
        extraData: h.extraData,
        transactions: b.transactions.map((t) => t.serialize()),
        l1EntryCount: entries.entries.length,
      };
      return out;
    },
  };
}
