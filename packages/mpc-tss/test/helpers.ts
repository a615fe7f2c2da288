import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNoopLogger, type Metrics } from "@dseq/common";
import { DkgSession } from "../src/dkg/dkgSession.ts";
import type { DkgResult } from "../src/dkg/dkgTypes.ts";
import { createPartyKey, type PartyKey } from "../src/identity.ts";
import type { GroupInfo, KeyShare } from "../src/keyShare.ts";
import { SigningCoordinator } from "../src/sign/coordinator.ts";
import { type ApproveFn, keyShareSource, Signer } from "../src/sign/signer.ts";
import { NonceStore } from "../src/store/nonceStore.ts";
import {
  type DkgFaults,
  type SignerFaults,
  withDkgFaults,
  withSignerFaults,
} from "../src/transport/faultyTransport.ts";
import {
  createTestNetwork,
  type TestNetwork,
  type TestNetworkOptions,
} from "../src/transport/testNetwork.ts";
import type { TssTransport } from "../src/transport/transport.ts";

/** n long-term keys from a fixed seed, so runs are reproducible. */
export function makeParties(n: number, seed = 1): PartyKey[] {
  return Array.from({ length: n }, (_, i) => {
    const sk = new Uint8Array(32);
    sk[0] = 1;
    sk[30] = seed & 0xff;
    sk[31] = i + 1;
    return createPartyKey(sk);
  });
}

export type DkgRun = {
  net: TestNetwork;
  sessions: Map<string, DkgSession>;
  results: Map<string, PromiseSettledResult<DkgResult>>;
  close(): void;
};

/** Runs a DKG among `keys` over a test network and waits for every session to settle. */
export async function runTestDkg(
  keys: PartyKey[],
  opts: {
    epoch?: number;
    net?: TestNetworkOptions;
    faults?: Map<string, DkgFaults>;
    deadlineMs?: number;
  } = {},
): Promise<DkgRun> {
  const net = createTestNetwork(opts.net ?? {});
  const members = keys.map((k) => k.id);
  const sessions = new Map<string, DkgSession>();
  for (const key of keys) {
    const faults = opts.faults?.get(key.id);
    const faulty = (t: TssTransport): TssTransport =>
      faults ? withDkgFaults(t, { key, members, peerKeys: keys }, faults) : t;
    const s = new DkgSession(
      {
        epoch: opts.epoch ?? 1,
        members,
        deadlineMs: opts.deadlineMs ?? 60_000,
        resendIntervalMs: 100,
      },
      { key, transport: faulty(net.join(key.id)), logger: createNoopLogger() },
    );
    sessions.set(key.id, s);
  }
  for (const s of sessions.values()) s.start();
  const settled = await Promise.allSettled([...sessions.values()].map((s) => s.result));
  const results = new Map<string, PromiseSettledResult<DkgResult>>();
  [...sessions.keys()].forEach((id, i) => {
    results.set(id, settled[i] as PromiseSettledResult<DkgResult>);
  });
  return {
    net,
    sessions,
    results,
    close() {
      for (const s of sessions.values()) s.stop();
      net.close();
    },
  };
}

export function fulfilled(run: DkgRun): DkgResult[] {
  return [...run.results.values()].flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
}

export type SignerNode = {
  key: PartyKey;
  dir: string;
  nonceKey: Uint8Array;
  nonces: NonceStore;
  signer: Signer;
  coordinator: SigningCoordinator;
  keyShare: KeyShare;
};

export type Cluster = {
  net: TestNetwork;
  nodes: SignerNode[];
  group: GroupInfo;
  close(): Promise<void>;
};

/**
 * DKG among n parties, then a signer (with a real file nonce store in a temp dir) and a
 * coordinator per party, all on one test network.
 */
export async function makeCluster(
  n: number,
  opts: {
    seed?: number;
    net?: TestNetworkOptions;
    /** Network of the DKG that makes the key (default: lossless). */
    dkgNet?: TestNetworkOptions;
    approve?: (party: PartyKey) => ApproveFn;
    signerFaults?: Map<string, SignerFaults>;
    shareVerification?: "lazy" | "eager";
    metrics?: Metrics;
  } = {},
): Promise<Cluster> {
  const keys = makeParties(n, opts.seed ?? n);
  const dkg = await runTestDkg(keys, { net: opts.dkgNet ?? {} });
  dkg.close();
  const results = fulfilled(dkg);
  if (results.length !== n) throw new Error("cluster DKG failed");
  const net = createTestNetwork(opts.net ?? {});
  const nodes: SignerNode[] = [];
  for (const [i, key] of keys.entries()) {
    const keyShare = (results[i] as DkgResult).keyShare;
    const dir = await mkdtemp(join(tmpdir(), "dseq-tss-"));
    const nonceKey = new Uint8Array(randomBytes(32));
    const nonces = await NonceStore.open({ dir, key: nonceKey });
    const transport = net.join(key.id);
    const signerFaults = opts.signerFaults?.get(key.id);
    const signer = new Signer(
      { approve: opts.approve?.(key) ?? (() => true) },
      {
        key,
        transport: signerFaults ? withSignerFaults(transport, signerFaults) : transport,
        shares: keyShareSource([keyShare]),
        nonces,
        logger: createNoopLogger(),
        metrics: opts.metrics,
      },
    ).start();
    const coordinator = new SigningCoordinator(
      { resendIntervalMs: 100, shareVerification: opts.shareVerification ?? "lazy" },
      { key, transport, logger: createNoopLogger(), metrics: opts.metrics },
    ).start();
    nodes.push({ key, dir, nonceKey, nonces, signer, coordinator, keyShare });
  }
  return {
    net,
    nodes,
    group: (results[0] as DkgResult).group,
    async close() {
      for (const nd of nodes) nd.coordinator.stop();
      await Promise.all(nodes.map((nd) => nd.signer.stop()));
      net.close();
      for (const nd of nodes) await rm(nd.dir, { recursive: true, force: true });
    },
  };
}
