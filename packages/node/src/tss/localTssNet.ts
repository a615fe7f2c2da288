import { type Hex, realClock } from "@dseq/common";
import { createPartyKey, type PartyKey } from "@dseq/mpc-tss";
import {
  createP2pHost,
  createTssTransport,
  type P2pHost,
  publicKeyToAddress,
  type TssP2pTransport,
} from "@dseq/p2p";
import type { TssSetAtSpan } from "./keyRotation.ts";
import type { TssValidatorSource } from "./tssService.ts";

/**
 * Real libp2p hosts on 127.0.0.1 in one process, a full mesh, each with p2p's TssTransport:
 * what the TSS tests and the `batch` bench run on. Not used by the node itself.
 */
export type LocalTssNet = {
  keys: PartyKey[];
  hosts: P2pHost[];
  transports: TssP2pTransport[];
  stop(): Promise<void>;
};

/** `withTransports: false` leaves the hosts bare (for callers that make their own transport). */
export async function startLocalTssNet(
  n: number,
  chainId = 901n,
  withTransports = true,
  /** The members' secret keys (default: n fresh ones). */
  secretKeys?: readonly Uint8Array[],
): Promise<LocalTssNet> {
  const keys = secretKeys
    ? secretKeys.map((k) => createPartyKey(k))
    : Array.from({ length: n }, () => createPartyKey());
  const addresses = new Set<Hex>(keys.map((k) => publicKeyToAddress(k.publicKey)));
  const hosts: P2pHost[] = [];
  const transports: TssP2pTransport[] = [];
  const net: LocalTssNet = {
    keys,
    hosts,
    transports,
    async stop() {
      for (const t of transports) t.stop();
      await Promise.all(hosts.map((h) => h.stop()));
    },
  };
  try {
    for (const key of keys) {
      const host = await createP2pHost(
        {
          privateKey: key.secretKey,
          chainId,
          genesisHash: new Uint8Array(32).fill(7),
          listen: ["/ip4/127.0.0.1/tcp/0"],
          staticPeers: hosts.map((h) => h.multiaddrs()[0] as string),
          reconnect: { initialDelayMs: 100, maxDelayMs: 800, factor: 2 },
          pingIntervalMs: 500,
          dialTimeoutMs: 2_000,
          gossip: { heartbeatIntervalMs: 100 },
        },
        { validators: { has: (a) => addresses.has(a) } },
      );
      hosts.push(host);
      if (withTransports)
        transports.push(
          await createTssTransport(
            { chainId, members: keys.map((k) => k.id) },
            { host, privateKey: key.secretKey },
          ),
        );
    }
    await waitUntil(
      () =>
        hosts.every(
          (h) => h.readyPeers().length === n - 1 && (!withTransports || h.topicPeers("tss").length === n - 1),
        ),
      20_000,
      "full tss mesh",
    );
  } catch (err) {
    await net.stop();
    throw err;
  }
  return net;
}

export async function waitUntil(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const start = realClock.now();
  while (!cond()) {
    if (realClock.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A validator source the caller drives: `startSpan` is what the chain does at a span boundary. */
export type ManualValidatorSource = TssValidatorSource & { startSpan(set: TssSetAtSpan): void };

export function manualValidatorSource(initial: TssSetAtSpan): ManualValidatorSource {
  let sets: TssSetAtSpan[] = [initial];
  const handlers = new Set<(s: TssSetAtSpan) => void>();
  return {
    current: () => sets[sets.length - 1] as TssSetAtSpan,
    setAt: () => sets[sets.length - 1] as TssSetAtSpan,
    onSpanStart(h) {
      handlers.add(h);
      return () => handlers.delete(h);
    },
    startSpan(set) {
      sets = [...sets, set];
      for (const h of handlers) h(set);
    },
  };
}
