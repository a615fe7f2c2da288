import { type EventBus, equalBytes, errorMessage, type Logger, withTimeout } from "@dseq/common";
import type { PeerId } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { P2pError, P2pErrorCode } from "./errors.ts";
import type { P2pOptions } from "./options.ts";
import type { P2pMetrics } from "./p2pMetrics.ts";
import type { PeerRecord, PeerTable } from "./peerTable.ts";
import { StatusProtocol } from "./protocols.ts";
import type { RequestHandler } from "./reqresp.ts";
import type { BlockSource, P2pEvents } from "./types.ts";
import type { Status } from "./wire.ts";

/*
 * The status handshake: every new peer is asked for its status (chain id, genesis, head); a
 * peer on another chain is refused and kept off for `refuseMs`, one that cannot answer is
 * dropped and penalized. Ready peers are asked again every `statusIntervalMs`.
 */

export type StatusContext = {
  readonly opts: Pick<P2pOptions, "chainId" | "genesisHash" | "refuseMs">;
  readonly blocks: BlockSource | undefined;
  readonly peers: PeerTable;
  readonly log: Logger;
  readonly metrics: P2pMetrics | undefined;
  readonly events: EventBus<P2pEvents>;
  readonly now: () => number;
  running(): boolean;
  hangUp(peer: PeerId): void;
  penalize(peer: PeerId, reason: string): void;
  /** One status exchange, without waiting for the peer to be ready. */
  exchange(peer: PeerId, local: Status): Promise<Status[]>;
};

export async function localStatus(ctx: Pick<StatusContext, "opts" | "blocks">): Promise<Status> {
  const head = ctx.blocks ? await ctx.blocks.head() : { height: 0n, hash: ctx.opts.genesisHash };
  return {
    chainId: ctx.opts.chainId,
    genesisHash: ctx.opts.genesisHash,
    headHeight: head.height,
    headHash: head.hash,
  };
}

function statusMismatch(opts: StatusContext["opts"], s: Status): string | undefined {
  if (s.chainId !== opts.chainId) return "chain_id";
  if (!equalBytes(s.genesisHash, opts.genesisHash)) return "genesis";
  return undefined;
}

/** Hangs up on a peer that failed the handshake; another chain is also kept off for `refuseMs`. */
function refuse(
  ctx: StatusContext,
  rec: PeerRecord | undefined,
  peer: PeerId,
  reason: string,
  keepOff = true,
): void {
  const key = peer.toString();
  rec?.markRefused(new P2pError(P2pErrorCode.PeerRefused, `peer refused: ${reason}`));
  if (!ctx.peers.isBanned(key)) {
    ctx.metrics?.refused.inc({ reason });
    ctx.log.warn("peer refused", { peer: key, reason });
    ctx.events.emit("p2p.peer.refused", { peerId: key, reason });
  }
  if (keepOff) ctx.peers.keepOff(key, ctx.now() + ctx.opts.refuseMs);
  ctx.hangUp(peer);
}

/** The first exchange with a new peer: ready on the same chain, refused otherwise. */
export async function handshake(ctx: StatusContext, rec: PeerRecord): Promise<void> {
  try {
    const [remote] = await ctx.exchange(rec.peerId, await localStatus(ctx));
    if (!remote) throw new P2pError(P2pErrorCode.Handshake, "empty status response");
    const reason = statusMismatch(ctx.opts, remote);
    if (reason) return refuse(ctx, rec, rec.peerId, reason);
    if (ctx.peers.get(rec.peerId.toString()) !== rec) return;
    rec.state = "ready";
    rec.headHeight = remote.headHeight;
    rec.markReady();
    ctx.events.emit("p2p.peer.ready", { peerId: rec.peerId.toString(), headHeight: remote.headHeight });
  } catch (err) {
    // A peer that left mid-handshake is not refused; one that cannot answer status is.
    if (ctx.peers.get(rec.peerId.toString()) !== rec || !ctx.running()) return;
    ctx.log.debug("status handshake failed", { peer: rec.peerId.toString(), err: errorMessage(err) });
    // If its request already showed another chain, that is the reason, not our failed request.
    if (rec.mismatch) return refuse(ctx, rec, rec.peerId, rec.mismatch);
    // A failed exchange may be transient (a full peer hanging up): drop it, count it, no ban.
    ctx.penalize(rec.peerId, "handshake_failed");
    refuse(ctx, rec, rec.peerId, "handshake_failed", false);
  }
}

/** Asks every ready peer for its status again; a head that moved is announced. */
export function refreshStatuses(ctx: StatusContext): void {
  for (const rec of ctx.peers.values()) {
    if (rec.state !== "ready") continue;
    void localStatus(ctx)
      .then((local) => ctx.exchange(rec.peerId, local))
      .then(([remote]) => {
        if (!remote || ctx.peers.get(rec.peerId.toString()) !== rec) return;
        const reason = statusMismatch(ctx.opts, remote);
        if (reason) return refuse(ctx, rec, rec.peerId, reason);
        if (remote.headHeight !== rec.headHeight) {
          rec.headHeight = remote.headHeight;
          ctx.events.emit("p2p.peer.head", {
            peerId: rec.peerId.toString(),
            headHeight: remote.headHeight,
          });
        }
      })
      .catch((err: unknown) =>
        ctx.log.debug("status refresh failed", { peer: rec.peerId.toString(), err: errorMessage(err) }),
      );
  }
}

/** Answers a peer's status request; a peer on another chain is answered, then dropped. */
export function statusHandler(ctx: StatusContext): RequestHandler<Status, Status> {
  return async (remote, req) => {
    const reason = statusMismatch(ctx.opts, remote);
    if (reason) {
      const rec = ctx.peers.get(req.peer);
      if (rec) rec.mismatch = reason;
      // Answer first so the remote learns why, then drop it.
      setTimeout(() => refuse(ctx, ctx.peers.get(req.peer), peerIdFromString(req.peer), reason), 50).unref();
    }
    return [await localStatus(ctx)];
  };
}

/** Resolves true once the peer passed the handshake; false if refused, gone or too slow. */
export async function waitReady(peers: PeerTable, peer: PeerId): Promise<boolean> {
  const rec = peers.get(peer.toString());
  if (!rec) return false;
  if (rec.state === "ready") return true;
  try {
    await withTimeout(rec.ready, StatusProtocol.timeoutMs, "status handshake");
    return true;
  } catch {
    return false;
  }
}
