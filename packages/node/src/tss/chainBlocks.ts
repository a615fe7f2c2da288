import type { CommittedBlock, CommittedBlockSource } from "@dseq/batch-submitter";
import { bytesToHex } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";

/** The batch submitter's and the signers' view of the chain store: committed blocks are final. */
export function chainCommittedBlocks(chain: Pick<Chain, "head" | "getBlockByNumber">): CommittedBlockSource {
  return {
    head: async () => chain.head().header.number,
    async block(n) {
      const b = await chain.getBlockByNumber(n);
      if (!b) return undefined;
      const h = b.header;
      const out: CommittedBlock = {
        number: h.number,
        hash: bytesToHex(b.hash()),
        parentHash: bytesToHex(h.parentHash),
        timestamp: h.timestamp,
        coinbase: h.coinbase.toString() as CommittedBlock["coinbase"],
        stateRoot: bytesToHex(h.stateRoot),
        extraData: h.extraData,
        transactions: b.transactions.map((t) => t.serialize()),
      };
      return out;
    },
  };
}
