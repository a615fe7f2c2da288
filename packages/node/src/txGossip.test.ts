import { createNoopLogger, FakeClock, type Hex } from "@dseq/common";
import { decodeBatch } from "@dseq/p2p";
import type { PooledTx } from "@dseq/txpool";
import { describe, expect, it } from "vitest";
import { TxGossip } from "./txGossip.ts";

const raw = (n: number): Uint8Array => new Uint8Array([0xc0 + (n % 16), n, n, n]);
const hash = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;
const pooled = (n: number, addedAt: number): PooledTx =>
  ({ raw: raw(n), hash: hash(n), addedAt }) as PooledTx;
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

  it("announces again its own transactions past the cutoff and, once after a join, the peers' ones it holds", async () => {
    const clock = new FakeClock(1_000_000);
    const { g, rounds } = reannouncer(clock, () => [pooled(6, 0), pooled(7, 0), pooled(8, 0), pooled(9, 0)]);
    g.markOwn(hash(7));
    g.markOwn(hash(8));
    await flush(clock, 2_000);
    g.markOwn(hash(9)); // came in later: not due in the first round
    g.peerJoined(); // a peer (maybe restarted) may lack them
    // 6 came from a peer: sent once after the join (its origin may be the node that restarted)
    await flush(clock, 2_010);
    expect(rounds).toEqual([[6, 7, 8]]);
    g.peerJoined(); // another join: 6 once more, own ones only when due again (8 s wait)
    await flush(clock, 4_000);
    expect(rounds).toEqual([
      [6, 7, 8],
      [6, 9],
    ]); // 9 is due by now
    g.stop();
    await flush(clock, 8_000);
    expect(rounds).toHaveLength(2); // stopped: no more rounds
  });

  it("waits twice as long before each further announcement of a transaction, up to the cap", async () => {
    const clock = new FakeClock(1_000_000);
    const { g, rounds, at } = reannouncer(clock, () => [pooled(7, 0)], { reannounceMaxIntervalMs: 16_000 });
    g.markOwn(hash(7));
    // a peer joins every second: the backoff alone decides
    for (let s = 0; s < 60; s++) {
      g.peerJoined();
      await flush(clock, 1_000);
    }
    await flush(clock, 10);
    // first due after 4 s, then waits of 8, 16, 16 (capped) s; rounds run every 4 s
    expect(at.map((t) => t - 1_000_000)).toEqual([4_000, 12_000, 28_000, 44_000, 60_000]);
    expect(rounds.every((r) => r.length === 1 && r[0] === 7)).toBe(true);
    for (let i = 1; i < at.length; i++)
      expect((at[i] as number) - (at[i - 1] as number)).toBeGreaterThanOrEqual(8_000);
    g.stop();
  });

  it("stops announcing a transaction that left the pool, and bounds what it tracks", async () => {
    const clock = new FakeClock(1_000_000);
    let pool = [pooled(1, 0), pooled(2, 0), pooled(3, 0)];
    const { g, rounds } = reannouncer(clock, () => pool, { maxOwn: 2 });
    g.markOwn(hash(1));
    g.markOwn(hash(2));
    g.markOwn(hash(3)); // over maxOwn: the oldest (1) is forgotten as own
    expect(g.ownCount).toBe(2);
    g.forget(hash(2)); // included in a block: it left the pool
    pool = pool.filter((t) => t.hash !== hash(2));
    g.peerJoined();
    await flush(clock, 4_010);
    expect(rounds).toEqual([[1, 3]]); // 1 only as a held transaction after the join, 2 never
    await flush(clock, 8_000);
    expect(rounds).toEqual([[1, 3]]); // no join since: nothing again
    g.stop();
  });
  it("sends nothing again while no peer joined and every batch reached a peer", async () => {
    const clock = new FakeClock(1_000_000);
    const { g, rounds } = reannouncer(clock, () => [pooled(1, 0), pooled(2, 0)]);
    g.markOwn(hash(1));
    g.markOwn(hash(2));
    await flush(clock, 20_010);
    expect(rounds).toEqual([]); // the peers have held them since they went out
    g.peerJoined(); // at 20 s; counts from 21 s (subscribed by then)
    await flush(clock, 4_000);
    expect(rounds).toEqual([[1, 2]]); // once for the joined peer, at 24 s
    await flush(clock, 20_000);
    expect(rounds).toHaveLength(1);
    g.stop();
  });

  it("announces again after a batch reached no peer", async () => {
    const clock = new FakeClock(1_000_000);
    let peers = 0;
    const sent: number[][] = [];
    const g = new TxGossip(
      { retries: 2, retryDelayMs: 100, reannounceAfterMs: 4_000, reannounceEveryMs: 4_000 },
      {
        publish: async (batch) => {
          sent.push(decodeBatch(batch, 1024).map((r) => r[1] as number));
          return peers;
        },
        pooled: () => [pooled(5, 0)],
        clock,
        logger: createNoopLogger(),
      },
    );
    g.start();
    g.markOwn(hash(5));
    void g.add(raw(5));
    await flush(clock, 1_000); // the batch and its 2 retries reached nobody
    expect(sent).toHaveLength(3);
    peers = 3;
    await flush(clock, 3_010);
    expect(sent).toHaveLength(4); // announced again at 4 s
    await flush(clock, 20_000);
    expect(sent).toHaveLength(4); // and it reached a peer: not again
    g.stop();
  });
});

/** A TxGossip whose re-announce rounds are recorded (tx numbers per round, and when). */
function reannouncer(
  clock: FakeClock,
  pool: () => PooledTx[],
  opts: Partial<ConstructorParameters<typeof TxGossip>[0]> = {},
): { g: TxGossip; rounds: number[][]; at: number[] } {
  const rounds: number[][] = [];
  const at: number[] = [];
  const g = new TxGossip(
    { reannounceAfterMs: 4_000, reannounceEveryMs: 4_000, peerSettleMs: 1_000, ...opts },
    {
      publish: async (batch) => {
        rounds.push(decodeBatch(batch, 1024).map((r) => r[1] as number));
        at.push(clock.now());
        return 3;
      },
      pooled: pool,
      clock,
      logger: createNoopLogger(),
    },
  );
  g.start();
  return { g, rounds, at };
}
