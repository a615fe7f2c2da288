import { createNoopLogger } from "@dseq/common";
import { type DkgFaults, type DkgResult, DkgSession } from "../src/dkg/dkgSession.ts";
import { createPartyKey, type PartyKey } from "../src/identity.ts";
import {
  createTestNetwork,
  type TestNetwork,
  type TestNetworkOptions,
} from "../src/transport/testNetwork.ts";

export type Party = { key: PartyKey };

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
    const s = new DkgSession(
      {
        epoch: opts.epoch ?? 1,
        members,
        deadlineMs: opts.deadlineMs ?? 60_000,
        resendIntervalMs: 100,
        faults: opts.faults?.get(key.id),
      },
      { key, transport: net.join(key.id), logger: createNoopLogger() },
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
      for (const s of sessions.values()) s.close();
      net.close();
    },
  };
}

export function fulfilled(run: DkgRun): DkgResult[] {
  return [...run.results.values()].flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
}
