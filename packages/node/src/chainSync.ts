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
export function p2pBlockFetcher(p2p: P2pHost, logger: Logger, timeoutMs = 5_000, batch = 32): BlockFetcher {
  // Blocks fetched ahead of the one asked for: a node far behind gets `batch` blocks per round trip.
  const ahead = new Map<number, { block: ConsensusBlock; certificate: CommitCertificate }>();

  async function fetchOne(
    height: number,
    signal: AbortSignal,
  ): Promise<{ block: ConsensusBlock; certificate: CommitCertificate } | undefined> {
    const hit = ahead.get(height);
    if (hit) {
      ahead.delete(height);
      return hit;
    }
    ahead.clear();
    // headHeight is what a peer said at its handshake and goes stale: ask every ready peer,
    // those known to be ahead first.
    const peers = p2p
      .peers()
      .filter((p) => p.state === "ready")
      .sort((x, y) => Number((y.headHeight ?? 0n) - (x.headHeight ?? 0n)));
    for (const peer of peers) {
      if (signal.aborted) return undefined;
      try {
        const items = await withTimeout(
          p2p.request(peer.peerId, BlocksByRangeProtocol, { from: BigInt(height), count: batch }, { signal }),
          timeoutMs,
          "blocks-by-range",
          signal,
        );
        const got = items.map((item: BlockWithCertificate) => {
          const certificate = decodeCertificate(item.certificate);
          return {
            height: Number(item.height),
            block: { hash: certificate.blockHash as Hex, payload: item.block },
            certificate,
          };
        });
        const first = got[0];
        if (!first || first.height !== height) continue;
        // Certificates are verified by the driver, blocks re-executed by the app, one by one.
        for (const g of got.slice(1)) ahead.set(g.height, { block: g.block, certificate: g.certificate });
        return { block: first.block, certificate: first.certificate };
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
