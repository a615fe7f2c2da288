import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { type DirectionState, releaseTime, startLinkRelay } from "./linkRelay.ts";
import { UNSHAPED } from "./plan.ts";

describe("releaseTime", () => {
  it("adds the delay, keeps order, waits an RTO for a lost segment and queues behind the rate", () => {
    const st: DirectionState = { lastRelease: 0 };
    const shape = { delayMs: 50, jitterMs: 0, lossPct: 0, rateMbit: 0 };
    expect(releaseTime(st, 1000, 100, shape, () => 0.5)).toBe(1050);
    // lost (rand below p): one RTO (max(200, 2 x delay)) more
    expect(releaseTime(st, 1001, 100, { ...shape, lossPct: 10 }, () => 0)).toBe(1251);
    // the next chunk cannot overtake the stalled one
    expect(releaseTime(st, 1002, 100, shape, () => 0.99)).toBe(1251);
    // 1 Mbit/s: 125,000 bytes take 1,000 ms after the previous chunk
    const st2: DirectionState = { lastRelease: 0 };
    const slow = { ...UNSHAPED, rateMbit: 1 };
    expect(releaseTime(st2, 0, 125_000, slow, Math.random)).toBe(1000);
    expect(releaseTime(st2, 0, 125_000, slow, Math.random)).toBe(2000);
  });
});

describe("link relay on 127.0.0.1", () => {
  const servers: Server[] = [];
  afterAll(() => {
    for (const s of servers) s.close();
  });

  async function echoServer(): Promise<number> {
    const s = createServer((c) => c.pipe(c));
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    return (s.address() as { port: number }).port;
  }
  const connect = (p: { host: string; port: number }): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const c = createConnection(p, () => resolve(c));
      c.once("error", reject);
    });
  const roundTrip = async (c: Socket, data: string): Promise<{ ms: number; got: string }> => {
    const t0 = performance.now();
    let got = "";
    await new Promise<void>((r) => {
      const on = (b: Buffer) => {
        got += b.toString();
        if (got.length >= data.length) {
          c.off("data", on);
          r();
        }
      };
      c.on("data", on);
      c.write(data);
    });
    return { ms: performance.now() - t0, got };
  };

  it("delays each direction, keeps a lossy stream in order, cuts and heals", async () => {
    const port = await echoServer();
    const ends = [
      { name: "a", hostIp: "127.0.0.1", ip: "127.0.0.1" },
      { name: "b", hostIp: "127.0.0.1", ip: "127.0.0.1" },
    ];
    const relay = await startLinkRelay(ends, UNSHAPED, (n) => (n === "b" ? port : undefined));
    try {
      relay.setShape("a", "b", { delayMs: 40, jitterMs: 0, lossPct: 0, rateMbit: 0 });
      relay.setShape("b", "a", { delayMs: 60, jitterMs: 0, lossPct: 0, rateMbit: 0 });
      const c = await connect(relay.addressOf("a", "b"));
      const rt = await roundTrip(c, "ping");
      expect(rt.got).toBe("ping");
      expect(rt.ms).toBeGreaterThanOrEqual(99);
      expect(rt.ms).toBeLessThan(400);

      // 30 % loss with jitter: stalls, but every byte arrives once and in order
      relay.setShape("a", "b", { delayMs: 5, jitterMs: 5, lossPct: 30, rateMbit: 0 });
      relay.setShape("b", "a", UNSHAPED);
      let expected = "";
      let got = "";
      c.on("data", (b: Buffer) => {
        got += b.toString();
      });
      for (let i = 0; i < 200; i++) {
        const part = `${i},`;
        expected += part;
        c.write(part);
        await new Promise((r) => setTimeout(r, 1));
      }
      for (let i = 0; i < 100 && got.length < expected.length; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(got).toBe(expected);
      expect(relay.connections()).toEqual({ "a>b": 1 });

      // a cut closes the connection and refuses new ones from a
      const closed = new Promise<void>((r) => c.once("close", () => r()));
      relay.setShape("a", "b", { ...UNSHAPED, lossPct: 100 });
      await closed;
      const again = await connect(relay.addressOf("a", "b"));
      await new Promise<void>((r) => again.once("close", () => r()));
      expect(relay.connections()).toEqual({});

      relay.setShape("a", "b", UNSHAPED);
      const healed = await connect(relay.addressOf("a", "b"));
      expect((await roundTrip(healed, "back")).got).toBe("back");
      healed.destroy();
    } finally {
      await relay.close();
    }
  });
});
