import { createNoopLogger, FakeClock } from "@dseq/common";
import { decodeBatch } from "@dseq/p2p";
import type { PooledTx } from "@dseq/txpool";
import { describe, expect, it } from "vitest";
import { TxGossip } from "./txGossip.ts";

const raw = (n: number): Uint8Array => new Uint8Array([0xc0 + (n % 16), n, n, n]);
const pooled = (n: number, addedAt: number): PooledTx => ({ raw: raw(n), addedAt }) as PooledTx;
const flush = async (clock: FakeClock, ms: number): Promise<void> => {
  for (let i = 0; i < ms / 5; i++) await clock.advanceAsync(5);
};

describe("TxGossip", () => {
  it("retries a batch that reached no peer, and resolves add() once it reached one", async () => {
    const clock = new FakeClock(1_000_000);
    const published: Uint8Array[][] = [];
    let peers = 0;
    const g = new TxGossip(
      { retries: 10, retryDelayMs: 100 },
      {
        publish: async (batch) => {
          published.push(decodeBatch(batch, 1024));
          return peers;
        },
        pooled: () => [],
        clock,
        logger: createNoopLogger(),
      },
    );
    let reached: number | undefined;
    void g.add(raw(1)).then((p) => {
      reached = p;
    });
    await flush(clock, 350); // batch window, then three attempts into no peer
    expect(published.length).toBeGreaterThanOrEqual(3);
    expect(reached).toBeUndefined();
    peers = 2; // the mesh formed
    await flush(clock, 200);
    expect(reached).toBe(2);
    expect(published.every((b) => b.length === 1 && b[0]?.[1] === 1)).toBe(true);
    g.stop();
  });

  it("announces again only what stayed pooled past the cutoff", async () => {
    const clock = new FakeClock(1_000_000);
    const published: Uint8Array[][] = [];
    const g = new TxGossip(
      { reannounceAfterMs: 4_000, reannounceEveryMs: 4_000 },
      {
        publish: async (batch) => {
          published.push(decodeBatch(batch, 1024));
          return 3;
        },
        // 7 and 8 arrived long ago; 9 just now.
        pooled: () => [pooled(7, 990_000), pooled(8, 995_000), pooled(9, clock.now())],
        clock,
        logger: createNoopLogger(),
      },
    );
    g.start();
    await flush(clock, 4_010);
    expect(published).toHaveLength(1);
    expect(published[0]?.map((r) => r[1])).toEqual([7, 8]);
    g.stop();
    await flush(clock, 8_000);
    expect(published).toHaveLength(1); // stopped: no more rounds
  });
});
