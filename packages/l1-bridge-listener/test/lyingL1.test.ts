// An L1 that is down, slow or lying never blocks or crashes the listener. The good endpoint is a
// real dev L1 (EDR); the bad ones are a fake HTTP server on 127.0.0.1 in front of it.
import { createMetrics, type Metrics } from "@dseq/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { L1BridgeListener, type L1Event, L1ListenerErrorCode } from "../src/index.ts";
import { type FakeLyingL1, type LieMode, startFakeLyingL1 } from "./fakeLyingL1.ts";
import { GWEI, startTestL1, type TestL1, tempStore } from "./helpers.ts";

let t: TestL1;
const fakes: FakeLyingL1[] = [];
beforeAll(async () => {
  t = await startTestL1();
  await t.deposit("0x000000000000000000000000000000000000dEaD", 42n * GWEI);
  await t.mine(2);
}, 120_000);
afterAll(async () => {
  for (const f of fakes) await f.close();
  await t?.stop();
});

async function fake(mode: LieMode): Promise<FakeLyingL1> {
  const f = await startFakeLyingL1(t.l1.rpcUrl, mode);
  fakes.push(f);
  return f;
}

async function listenerWith(endpoints: string[], metrics: Metrics, extra: { attempts?: number } = {}) {
  const db = await tempStore();
  const listener = new L1BridgeListener(
    {
      endpoints,
      l1ChainId: t.l1.chainId,
      contracts: t.contracts,
      startBlock: t.d.startBlock,
      confirmations: 1,
      requestTimeoutMs: 300,
      retryBaseDelayMs: 20,
      ...extra,
    },
    { store: db.store, metrics },
  );
  const events: L1Event[] = [];
  listener.events.on("event", (e) => {
    events.push(e);
  });
  return {
    listener,
    events,
    async close() {
      await listener.stop();
      await db.close();
    },
  };
}

const errorsOf = async (m: Metrics, kind: string): Promise<number> =>
  (await m.values("dseq_l1_errors_total")).find((v) => v.labels.kind === kind)?.value ?? 0;

async function catchUp(listener: L1BridgeListener): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await listener.pollOnce();
    const s = listener.status();
    if (s.cursor && s.head !== undefined && s.cursor.number >= s.head - 1n) break;
  }
  await new Promise((r) => setImmediate(r));
}

const deposits = (events: L1Event[]) =>
  events.filter((e) => e.type === "deposit").map((e) => e.type === "deposit" && e.amount / GWEI);

describe("a lying or broken L1 endpoint", () => {
  it("an endpoint that hangs times out and the next one answers", async () => {
    const hang = await fake("hang");
    const m = createMetrics();
    const l = await listenerWith([hang.url, t.l1.rpcUrl], m);
    try {
      const began = Date.now();
      await catchUp(l.listener);
      expect(Date.now() - began).toBeLessThan(5_000);
      expect(deposits(l.events)).toEqual([42n]);
      expect(await errorsOf(m, "timeout")).toBeGreaterThanOrEqual(1);
    } finally {
      await l.close();
    }
  });

  it("an endpoint that errors fails over to the next", async () => {
    const bad = await fake("error");
    const m = createMetrics();
    const l = await listenerWith([bad.url, t.l1.rpcUrl], m);
    try {
      await catchUp(l.listener);
      expect(deposits(l.events)).toEqual([42n]);
      expect(await errorsOf(m, "rpc")).toBeGreaterThanOrEqual(1);
      expect(bad.calls.size).toBe(0); // it never got as far as answering JSON-RPC
    } finally {
      await l.close();
    }
  });

  it("logs whose block hashes match no header are refused; the honest endpoint's events are emitted", async () => {
    const liar = await fake("wrongLogHash");
    const m = createMetrics();
    const l = await listenerWith([liar.url, t.l1.rpcUrl], m);
    try {
      await catchUp(l.listener);
      expect(liar.calls.get("eth_getLogs")).toBeGreaterThanOrEqual(1);
      expect(await errorsOf(m, "inconsistent_data")).toBeGreaterThanOrEqual(1);
      expect(deposits(l.events)).toEqual([42n]);
      for (const e of l.events) {
        const block = await t.client.getBlock({ blockNumber: e.l1.blockNumber });
        expect(e.l1.blockHash).toBe(block.hash);
      }
    } finally {
      await l.close();
    }
  });

  it("a head far ahead of the blocks the endpoint has is not believed", async () => {
    const liar = await fake("headAhead");
    const m = createMetrics();
    const l = await listenerWith([liar.url, t.l1.rpcUrl], m);
    try {
      // the liar's head (real + 1000) is only a target; its missing blocks make it inconsistent
      // and the honest endpoint serves the read
      await l.listener.pollOnce();
      await l.listener.pollOnce();
      await new Promise((r) => setImmediate(r));
      expect(deposits(l.events)).toEqual([42n]);
      expect(await errorsOf(m, "inconsistent_data")).toBeGreaterThanOrEqual(1);
      const real = await t.client.getBlockNumber();
      expect(l.listener.status().cursor!.number).toBeLessThanOrEqual(real);
    } finally {
      await l.close();
    }
  });

  it("a head that goes backwards is counted, rewinds nothing and emits nothing new", async () => {
    const liar = await fake("honest");
    const m = createMetrics();
    const l = await listenerWith([liar.url], m);
    try {
      await catchUp(l.listener);
      const cursor = l.listener.status().cursor;
      const before = l.events.length;
      liar.mode = "headBackwards";
      for (let i = 0; i < 3; i++) await l.listener.pollOnce();
      expect(await errorsOf(m, "head_regressed")).toBeGreaterThanOrEqual(2);
      expect(l.listener.status().cursor).toEqual(cursor);
      expect(l.events.length).toBe(before);
      expect(await errorsOf(m, "reorg")).toBe(0);
    } finally {
      await l.close();
    }
  });

  it("with every endpoint down a poll fails in bounded time; the loop backs off and recovers", async () => {
    const hang = await fake("hang");
    const m = createMetrics();
    const l = await listenerWith([hang.url], m, { attempts: 2 });
    try {
      const began = Date.now();
      await expect(l.listener.pollOnce()).rejects.toMatchObject({ code: L1ListenerErrorCode.Unavailable });
      expect(Date.now() - began).toBeLessThan(3_000);
      l.listener.start();
      for (let i = 0; i < 100 && l.listener.status().consecutiveFailures < 1; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(l.listener.status()).toMatchObject({ running: true, halted: false });
      expect(l.listener.status().consecutiveFailures).toBeGreaterThanOrEqual(1);
      hang.mode = "honest";
      for (let i = 0; i < 200 && deposits(l.events).length === 0; i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(deposits(l.events)).toEqual([42n]);
    } finally {
      await l.close();
    }
  }, 30_000);

  it("reads over WebSocket as over HTTP", async () => {
    const m = createMetrics();
    const l = await listenerWith([t.l1.rpcUrl.replace(/^http/, "ws")], m);
    try {
      await catchUp(l.listener);
      expect(deposits(l.events)).toEqual([42n]);
    } finally {
      await l.close();
    }
  });
});
