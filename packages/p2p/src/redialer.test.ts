import { createNoopLogger, FakeClock } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { parsePeerAddr, Redialer } from "./redialer.ts";

const ID_A = "16Uiu2HAmCgquaT9ztqT3BD3cusvK9M8yhq7pvGbCB6u5jkEK7uD8";
const ID_B = "16Uiu2HAkwSB4hd4kd829vUgVmomTZmxvzHwyvVuQ7k5QhUmy1BKc";
const A = `/ip4/127.0.0.1/tcp/1000/p2p/${ID_A}`;
const B = `/ip4/127.0.0.1/tcp/1001/p2p/${ID_B}`;

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function setup(opts: { staticPeers?: string[]; bootstrap?: string[]; minPeers?: number } = {}) {
  const clock = new FakeClock(0);
  const dials: { at: number; peer: string }[] = [];
  const connected = new Set<string>();
  const banned = new Map<string, number>();
  let succeed = false;
  const r = new Redialer(
    {
      reconnect: { initialDelayMs: 100, maxDelayMs: 1_000, factor: 2 },
      minPeers: opts.minPeers ?? 1,
      staticPeers: opts.staticPeers ?? [],
      bootstrap: opts.bootstrap ?? [],
    },
    {
      dial: async (addr) => {
        const peer = parsePeerAddr(addr.toString()).peerId;
        dials.push({ at: clock.now(), peer });
        if (!succeed) throw new Error("refused");
        connected.add(peer);
      },
      isConnected: (p) => connected.has(p),
      connectedCount: () => connected.size,
      bannedUntil: (p) => banned.get(p),
      clock,
      log: createNoopLogger(),
    },
  );
  const signal = new AbortController().signal;
  const runFor = async (ms: number, step = 10): Promise<void> => {
    for (let t = 0; t < ms; t += step) {
      r.tick(signal);
      await settle();
      clock.advance(step);
    }
  };
  return { r, clock, dials, connected, banned, runFor, setSucceed: (v: boolean) => (succeed = v) };
}

describe("Redialer", () => {
  it("redials a static peer with growing, capped, jittered backoff", async () => {
    const s = setup({ staticPeers: [A] });
    await s.runFor(8_000);
    const gaps = s.dials.slice(1).map((d, i) => d.at - (s.dials[i] as { at: number }).at);
    expect(gaps.length).toBeGreaterThan(5);
    // doubling from 100 ms (±25% jitter) up to the 1 s cap
    expect(gaps[0]).toBeGreaterThanOrEqual(70);
    expect(gaps[0]).toBeLessThanOrEqual(140);
    expect(gaps[2]).toBeGreaterThan(gaps[0] as number);
    for (const g of gaps) expect(g).toBeLessThanOrEqual(1_260);
    expect(gaps.slice(-2).every((g) => g >= 740)).toBe(true);
  });

  it("stops dialing once connected and comes back quickly after a disconnect", async () => {
    const s = setup({ staticPeers: [A] });
    s.setSucceed(true);
    await s.runFor(500);
    expect(s.dials.length).toBe(1);
    s.connected.delete(ID_A);
    s.r.onDisconnected(ID_A);
    const before = s.clock.now();
    await s.runFor(300);
    expect(s.dials.length).toBe(2);
    expect((s.dials[1] as { at: number }).at - before).toBeLessThanOrEqual(110);
  });

  it("waits out a ban", async () => {
    const s = setup({ staticPeers: [A] });
    s.banned.set(ID_A, 2_000);
    await s.runFor(1_900);
    expect(s.dials.length).toBe(0);
    s.banned.delete(ID_A);
    await s.runFor(300);
    // the next attempt was scheduled for the end of the ban
    expect(s.dials[0]?.at).toBe(2_000);
  });

  it("dials bootstrap peers only while under minPeers", async () => {
    const s = setup({ staticPeers: [A], bootstrap: [B], minPeers: 1 });
    s.setSucceed(true);
    s.connected.add(ID_A);
    await s.runFor(500);
    expect(s.dials).toEqual([]);
    s.connected.delete(ID_A);
    s.setSucceed(false);
    await s.runFor(50);
    expect(new Set(s.dials.map((d) => d.peer))).toEqual(new Set([ID_A, ID_B]));
  });

  it("refuses peer addresses without a peer id", () => {
    expect(() => parsePeerAddr("/ip4/127.0.0.1/tcp/1")).toThrow(/lacks \/p2p/);
    expect(() => parsePeerAddr("nonsense")).toThrow(/bad peer multiaddr/);
  });
});
