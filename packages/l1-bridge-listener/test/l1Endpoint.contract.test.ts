// One suite for every way the listener reaches an L1 (ADR 0190): EDR over HTTP, EDR over
// WebSocket, and a forwarding proxy in front of it (what the devnet's nodes and an operator's
// load balancer look like). Each must give the same head, headers, decoded logs and locked
// amounts as viem reading EDR directly.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createL1Client, defaultL1ClientOptions, type L1Endpoint } from "../src/index.ts";
import { type FakeLyingL1, startFakeLyingL1 } from "./fakeLyingL1.ts";
import { E18, GWEI, startTestL1, type TestL1 } from "./helpers.ts";

let t: TestL1;
let proxy: FakeLyingL1 | undefined;
let depositBlock = 0n;
beforeAll(async () => {
  t = await startTestL1();
  await t.lock(0, 1, 30_000n * E18);
  depositBlock = await t.deposit("0x000000000000000000000000000000000000dEaD", 7n * GWEI);
  await t.mine(2);
  proxy = await startFakeLyingL1(t.l1.rpcUrl, "honest");
}, 120_000);
afterAll(async () => {
  await proxy?.close();
  await t?.stop();
});

const kinds: [string, () => string][] = [
  ["EDR over HTTP", () => t.l1.rpcUrl],
  ["EDR over WebSocket", () => t.l1.rpcUrl.replace(/^http/, "ws")],
  ["a forwarding proxy over HTTP", () => proxy?.url as string],
];

describe.each(kinds)("L1 endpoint contract: %s", (_name, url) => {
  async function withEndpoint<T>(fn: (ep: L1Endpoint) => Promise<T>): Promise<T> {
    const client = createL1Client({ ...defaultL1ClientOptions, endpoints: [url()], attempts: 1 });
    try {
      return await fn(client.preferred);
    } finally {
      await client.close();
    }
  }

  it("the head is EDR's", async () => {
    const head = await withEndpoint((ep) => ep.blockNumber());
    expect(head).toBe(await t.client.getBlockNumber());
  });

  it("headers are EDR's, linked by parent hash; past the head there is none", async () => {
    const head = await t.client.getBlockNumber();
    const got = await withEndpoint(async (ep) => ({
      h: await ep.header(head),
      p: await ep.header(head - 1n),
      beyond: await ep.header(head + 100n),
    }));
    const real = await t.client.getBlock({ blockNumber: head });
    expect(got.h).toEqual({ number: head, hash: real.hash, parentHash: real.parentHash });
    expect(got.p?.hash).toBe(real.parentHash);
    expect(got.beyond).toBeUndefined();
  });

  it("logs come decoded, in block and log order, with their provenance", async () => {
    const head = await t.client.getBlockNumber();
    const { lockingPool, depositBridge, batchInbox } = t.contracts;
    const logs = await withEndpoint((ep) => ep.getLogs([lockingPool, depositBridge, batchInbox], 0n, head));
    const deposit = logs.find((l) => l.address.toLowerCase() === depositBridge.toLowerCase());
    expect(deposit?.blockNumber).toBe(depositBlock);
    expect(logs.some((l) => l.eventName === "Locked" || l.eventName === "LockUpdate")).toBe(true);
    const order = logs.map((l) => [l.blockNumber, l.logIndex] as const);
    const sorted = [...order].sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1));
    expect(order).toEqual(sorted);
    for (const l of logs) {
      const block = await t.client.getBlock({ blockNumber: l.blockNumber });
      expect(l.blockHash).toBe(block.hash);
    }
  });

  it("locked amounts are the LockingPool's at that block", async () => {
    const head = await t.client.getBlockNumber();
    const amounts = await withEndpoint((ep) => ep.lockedAmountsAt(t.contracts.lockingPool, head, 100));
    expect(amounts.get(1n)).toBe(30_000n * E18);
    expect(amounts.size).toBe(1);
  });
});
