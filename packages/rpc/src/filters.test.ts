import { createNoopLogger, FakeClock } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { MemoryChain } from "../test/helpers/memoryChain.ts";
import { defaultMethodOptions, type Services } from "./context.ts";
import { FilterManager } from "./filters.ts";

describe("FilterManager", () => {
  it("block filters return each new block once; idle filters expire", async () => {
    const chain = new MemoryChain();
    const clock = new FakeClock(0);
    const svc: Services = {
      backend: { chain },
      chain,
      opts: { ...defaultMethodOptions, filterTimeoutMs: 60_000 },
      logger: createNoopLogger(),
    };
    const filters = new FilterManager(svc, { clock });
    const id = filters.newBlockFilter();
    const idle = filters.newBlockFilter();
    const b1 = chain.addBlock([]);
    const b2 = chain.addBlock([]);
    expect(await filters.changes(id)).toEqual([b1.header.hash, b2.header.hash]);
    expect(await filters.changes(id)).toEqual([]);
    clock.advance(40_000);
    await filters.changes(id);
    clock.advance(40_000);
    // `idle` was last polled 80 s ago (> 60 s): gone, even before the next sweep.
    await expect(filters.changes(idle)).rejects.toThrow(/filter not found/);
    const other = filters.newPendingTransactionFilter();
    clock.advance(10_000);
    // The sweep (every 30 s) at t = 90 s removes nothing else: `id` was polled at 40 s.
    expect(filters.size).toBe(2);
    clock.advance(70_000);
    expect(filters.size).toBe(0);
    await expect(filters.changes(other)).rejects.toThrow(/filter not found/);
    const again = filters.newBlockFilter();
    expect(filters.uninstall(again)).toBe(true);
    expect(filters.uninstall(again)).toBe(false);
    filters.close();
  });
});
