import { type Clock, errorMessage, type Logger } from "@dseq/common";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { P2pError, P2pErrorCode } from "./errors.ts";
import type { ReconnectOptions } from "./options.ts";

type DialTarget = {
  peerId: string;
  addr: Multiaddr;
  persistent: boolean;
  delayMs: number;
  nextAttemptAt: number;
  dialing: boolean;
};

export type RedialerDeps = {
  dial(addr: Multiaddr): Promise<unknown>;
  isConnected(peerId: string): boolean;
  connectedCount(): number;
  /** When the peer's ban ends, or undefined if it is not banned. */
  bannedUntil(peerId: string): number | undefined;
  clock: Clock;
  log: Logger;
};

/** Parses a peer multiaddr; it must name the peer (`/p2p/<id>`) so we know when it is connected. */
export function parsePeerAddr(addr: string): { addr: Multiaddr; peerId: string } {
  let ma: Multiaddr;
  try {
    ma = multiaddr(addr);
  } catch (err) {
    throw new P2pError(P2pErrorCode.BadConfig, `bad peer multiaddr ${addr}`, { cause: err });
  }
  const peerId = ma.getComponents().find((c) => c.name === "p2p")?.value;
  if (!peerId) throw new P2pError(P2pErrorCode.BadConfig, `peer multiaddr ${addr} lacks /p2p/<peer id>`);
  return { addr: ma, peerId };
}

/**
 * Keeps static peers connected (redialed forever, jittered exponential backoff) and dials
 * bootstrap peers while fewer than `minPeers` are connected. Driven by `tick()`.
 */
export class Redialer {
  private readonly targets: DialTarget[] = [];
  private readonly opts: ReconnectOptions;
  private readonly minPeers: number;
  private readonly deps: RedialerDeps;

  constructor(
    opts: { reconnect: ReconnectOptions; minPeers: number; staticPeers: string[]; bootstrap: string[] },
    deps: RedialerDeps,
  ) {
    this.opts = opts.reconnect;
    this.minPeers = opts.minPeers;
    this.deps = deps;
    for (const [list, persistent] of [
      [opts.staticPeers, true],
      [opts.bootstrap, false],
    ] as const) {
      for (const a of list)
        this.targets.push({ ...parsePeerAddr(a), persistent, delayMs: 0, nextAttemptAt: 0, dialing: false });
    }
  }

  isStatic(peerId: string): boolean {
    return this.targets.some((t) => t.persistent && t.peerId === peerId);
  }

  onConnected(peerId: string): void {
    for (const t of this.targets) if (t.peerId === peerId) t.delayMs = 0;
  }

  onDisconnected(peerId: string): void {
    const at = this.deps.clock.now() + this.opts.initialDelayMs;
    for (const t of this.targets) if (t.peerId === peerId) t.nextAttemptAt = at;
  }

  tick(signal: AbortSignal): void {
    const { clock, log } = this.deps;
    const now = clock.now();
    const under = this.deps.connectedCount() < this.minPeers;
    for (const t of this.targets) {
      if (t.dialing || this.deps.isConnected(t.peerId)) continue;
      if (!t.persistent && !under) continue;
      if (now < t.nextAttemptAt) continue;
      const bannedUntil = this.deps.bannedUntil(t.peerId);
      if (bannedUntil !== undefined) {
        t.nextAttemptAt = bannedUntil;
        continue;
      }
      t.dialing = true;
      this.deps
        .dial(t.addr)
        .then(
          () => {
            t.delayMs = 0;
          },
          (err: unknown) => {
            if (signal.aborted) return;
            t.delayMs =
              t.delayMs === 0
                ? this.opts.initialDelayMs
                : Math.min(this.opts.maxDelayMs, t.delayMs * this.opts.factor);
            // Jitter so a restarted network does not redial in lockstep.
            t.nextAttemptAt = clock.now() + t.delayMs * (0.75 + Math.random() * 0.5);
            log.debug("dial failed", {
              peer: t.peerId,
              retryInMs: Math.round(t.delayMs),
              err: errorMessage(err),
            });
          },
        )
        .finally(() => {
          t.dialing = false;
        });
    }
  }
}
