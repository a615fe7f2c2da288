import type { Clock, EventBus, Logger } from "@dseq/common";
import { decodeBatch, defaultGossipBatcherOptions, type P2pHost } from "@dseq/p2p";
import type { RpcEventMap } from "@dseq/rpc";
import type { PooledTx, TxPool } from "@dseq/txpool";
import { TxGossip } from "../txGossip.ts";
import type { Started } from "./started.ts";

/**
 * 5. Transactions: RPC-submitted ones are gossiped in batches (and, being this node's own,
 * announced again while they stay pooled); gossiped ones enter the pool through the same
 * admission and are not announced again here. A transaction that becomes pending is announced
 * to RPC subscribers.
 */
export function initTxGossip(
  p2p: P2pHost,
  pool: TxPool,
  rpcEvents: EventBus<RpcEventMap>,
  m: { logger: Logger; clock: Clock },
): Started<TxGossip> {
  const gossip = new TxGossip(
    {},
    {
      publish: (batch) => p2p.publish("tx", batch),
      pooled: () => pendingInOrder(pool),
      clock: m.clock,
      logger: m.logger,
    },
  );
  gossip.start();
  p2p.subscribe<Uint8Array[]>("tx", {
    decode: (data) => decodeBatch(data, defaultGossipBatcherOptions.maxBatchItems),
    onMessage: (raws) => {
      pool
        .addRemotes(raws, { origin: "peer" })
        .catch((err: unknown) => m.logger.warn("gossiped transactions failed admission", { err }));
    },
  });
  pool.events.on("txpool.added", (e) => {
    if (e.origin === "rpc" || e.local) gossip.markOwn(e.hash);
    if (e.pending) rpcEvents.emit("txpool.pending", { hashes: [e.hash] });
  });
  pool.events.on("txpool.removed", (e) => gossip.forget(e.hash));
  p2p.events.on("p2p.peer.connected", () => gossip.peerJoined());
  return { module: gossip, stop: () => gossip.stop() };
}

/**
 * What to announce again: the executable transactions, in block order. A gap in another
 * node's pool is filled by a transaction that is pending on the node that has it, so queued
 * ones need not travel; walking the pending heap also avoids snapshotting the whole pool.
 */
function* pendingInOrder(pool: TxPool): Iterable<PooledTx> {
  const it = pool.pending();
  for (let tx = it.next(); tx !== undefined; tx = it.next()) yield tx;
}
