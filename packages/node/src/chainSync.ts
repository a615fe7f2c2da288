import { type Hex, type Logger, withTimeout } from "@dseq/common";
import type { Chain } from "@dseq/l2-exec";
import { type BlockSource, BlocksByRangeProtocol, type BlockWithCertificate, type P2pHost } from "@dseq/p2p";
import type { BlockFetcher, CommitCertificate, Block as ConsensusBlock } from "@dseq/pos-consensus";
import { decodeCertificate } from "./rotation.ts";

/** p2p's view of the store: the head for `status`, committed blocks with certificates for sync. */
export function chainBlockSource(chain: Chain): BlockSource {
  return {
    head: () => {
      const h = chain.head();
      return { height: h.header.number, hash: h.hash() };
    },
    async getRange(from, count) {
      const out: BlockWithCertificate[] = [];
      const head = chain.head().header.number;
      for (let n = from; n < from + BigInt(count) && n <= head; n++) {
        const block = await chain.getBlockByNumber(n);
        const cert = await chain.getCommitCertificate(n);
        if (!block || !cert) break;
        out.push({ height: n, block: block.serialize(), certificate: cert });
      }
      return out;
    },
  };
}

/**
 * Catch-up through `blocks-by-range`: a committed block and its certificate from whichever
 * ready peer is ahead. The consensus driver verifies the certificate against the validator
 * set and the app re-executes the block before it is committed.
 */
export function p2pBlockFetcher(p2p: P2pHost, logger: Logger, timeoutMs = 5_000): BlockFetcher {
  async function fetchOne(
    height: number,
    signal: AbortSignal,
  ): Promise<{ block: ConsensusBlock; certificate: CommitCertificate } | undefined> {
    // headHeight is what a peer said at its handshake and goes stale: ask every ready peer,
    // those known to be ahead first.
    const peers = p2p
      .peers()
      .filter((p) => p.state === "ready")
      .sort((x, y) => Number((y.headHeight ?? 0n) - (x.headHeight ?? 0n)));
    for (const peer of peers) {
      if (signal.aborted) return undefined;
      try {
        const got = await withTimeout(
          p2p.request(peer.peerId, BlocksByRangeProtocol, { from: BigInt(height), count: 1 }, { signal }),
          timeoutMs,
          "blocks-by-range",
          signal,
        );
        const items = Array.isArray(got) ? got : [];
        const item = items[0] as BlockWithCertificate | undefined;
        if (!item || item.height !== BigInt(height)) continue;
        const certificate = decodeCertificate(item.certificate);
        return { block: { hash: certificate.blockHash as Hex, payload: item.block }, certificate };
      } catch (err) {
        logger.debug("catch-up request failed", { peer: peer.peerId, height, err });
      }
    }
    return undefined;
  }
  return {
    async fetchBlock(height, blockHash, signal) {
      const got = await fetchOne(height, signal);
      return got && got.block.hash === blockHash ? got.block : undefined;
    },
    fetchCommitted: fetchOne,
  };
}
