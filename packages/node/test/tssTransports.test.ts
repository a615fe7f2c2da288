// One suite for every TssTransport (mpc-tss's interface, ADR 0190): the in-memory test network,
// the fault wrappers with no faults set, and p2p's TssTransport on real libp2p hosts. What the
// DKG and signing rely on is the same for all of them: a broadcast reaches every other member
// once (not the sender), a direct message reaches exactly its addressee (the sender too), each
// message names its real author, and an unsubscribed handler hears nothing more.
import type { Hex } from "@dseq/common";
import {
  createPartyKey,
  createTestNetwork,
  type PartyId,
  type PartyKey,
  type TransportMessage,
  type TssTransport,
  withDkgFaults,
  withSignerFaults,
} from "@dseq/mpc-tss";
import { afterEach, describe, expect, it } from "vitest";
import { startLocalTssNet } from "../src/tss/localTssNet.ts";

type Group = { ids: PartyId[]; transports: TssTransport[]; stop(): Promise<void> | void };

const enc = new TextEncoder();
const dec = new TextDecoder();

type Wrap = (t: TssTransport, key: PartyKey, members: PartyId[]) => TssTransport;

function memoryGroup(n: number, wrap: Wrap = (t) => t): Group {
  const net = createTestNetwork({ seed: 7 });
  const keys = Array.from({ length: n }, () => createPartyKey());
  const ids = keys.map((k) => k.id);
  return { ids, transports: keys.map((k) => wrap(net.join(k.id), k, ids)), stop: () => net.close() };
}

const implementations: [string, (n: number) => Promise<Group>][] = [
  ["mpc-tss in-memory test network", async (n) => memoryGroup(n)],
  [
    "mpc-tss fault wrappers with no faults",
    async (n) =>
      memoryGroup(n, (t, key, members) => withSignerFaults(withDkgFaults(t, { key, members }, {}), {})),
  ],
  [
    "p2p TssTransport on real libp2p hosts",
    async (n) => {
      const net = await startLocalTssNet(n);
      return {
        ids: net.transports.map((t) => t.self as Hex),
        transports: net.transports,
        stop: () => net.stop(),
      };
    },
  ],
];

async function until(ok: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(implementations)("TssTransport contract: %s", (_name, make) => {
  let group: Group | undefined;
  afterEach(async () => {
    await group?.stop();
    group = undefined;
  });

  async function setup(n: number) {
    group = await make(n);
    const inbox: TransportMessage[][] = group.transports.map(() => []);
    const unsubscribe = group.transports.map((t, i) => t.subscribe((m) => inbox[i]?.push(m)));
    return { ...group, inbox, unsubscribe };
  }
  const texts = (box: TransportMessage[] | undefined) =>
    (box ?? []).map((m) => `${m.from.slice(0, 8)}:${dec.decode(m.data)}`).sort();

  it("a broadcast reaches every other member once, with its author; not the sender", async () => {
    const { ids, transports, inbox } = await setup(4);
    // p2p's mesh may take a moment: broadcast until the first message arrives everywhere
    const end = Date.now() + 15_000;
    while (!inbox.slice(1).every((b) => b.length > 0)) {
      if (Date.now() > end) throw new Error("no broadcast delivered");
      for (const b of inbox) b.length = 0;
      transports[0]?.broadcast(enc.encode("warm-up"));
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const b of inbox) b.length = 0;

    transports[0]?.broadcast(enc.encode("round 1"));
    await until(() => inbox.slice(1).every((b) => b.length >= 1), 10_000, "the broadcast");
    await new Promise((r) => setTimeout(r, 300)); // a duplicate would arrive by now
    const from = (ids[0] as string).slice(0, 8);
    for (const b of inbox.slice(1)) expect(texts(b)).toEqual([`${from}:round 1`]);
    expect(inbox[0]).toEqual([]);
  });

  it("a direct message reaches exactly its addressee (the sender too), with its author", async () => {
    const { ids, transports, inbox } = await setup(3);
    const [a, b] = ids as [PartyId, PartyId, PartyId];
    const end = Date.now() + 15_000;
    while (inbox[1]?.length === 0) {
      if (Date.now() > end) throw new Error("no direct message delivered");
      transports[0]?.send(b, enc.encode("probe"));
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const box of inbox) box.length = 0;

    transports[0]?.send(b, enc.encode("to b"));
    transports[0]?.send(a, enc.encode("to self"));
    await until(() => inbox[1]?.length === 1 && inbox[0]?.length === 1, 10_000, "direct messages");
    await new Promise((r) => setTimeout(r, 300));
    const from = a.slice(0, 8);
    expect(texts(inbox[1])).toEqual([`${from}:to b`]);
    expect(texts(inbox[0])).toEqual([`${from}:to self`]);
    expect(inbox[2]).toEqual([]);
  });

  it("after unsubscribe a handler hears nothing more", async () => {
    const { ids, transports, inbox, unsubscribe } = await setup(2);
    const to = ids[1] as PartyId;
    const end = Date.now() + 15_000;
    while (inbox[1]?.length === 0) {
      if (Date.now() > end) throw new Error("no direct message delivered");
      transports[0]?.send(to, enc.encode("probe"));
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 300));
    unsubscribe[1]?.();
    const before = inbox[1]?.length;
    transports[0]?.send(to, enc.encode("after"));
    transports[0]?.broadcast(enc.encode("after, to all"));
    await new Promise((r) => setTimeout(r, 500));
    expect(inbox[1]?.length).toBe(before);
  });
});
