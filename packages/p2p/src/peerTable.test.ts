import { createNoopLogger, EventBus, FakeClock } from "@dseq/common";
import type { PeerId } from "@libp2p/interface";
import { describe, expect, it } from "vitest";
import { sequencerKeyToPeerId } from "./identity.ts";
import { defaultP2pOptions } from "./options.ts";
import { PeerTable } from "./peerTable.ts";
import type { P2pEvents } from "./types.ts";

const peerOf = (n: number): PeerId => sequencerKeyToPeerId(new Uint8Array(32).fill(n));

function makeTable(opts: Partial<typeof defaultP2pOptions> = {}) {
  const clock = new FakeClock(1_000);
  const hungUp: string[] = [];
  const banned = new Map<string, number>();
  const events = new EventBus<P2pEvents>({ name: "p2p", logger: createNoopLogger() });
  const table = new PeerTable({
    opts: { ...defaultP2pOptions, ...opts },
    clock,
    log: createNoopLogger(),
    metrics: undefined,
    events,
    validators: undefined,
    banned,
    hangUp: (peer) => hungUp.push(peer.toString()),
    score: () => 0,
    rtt: () => undefined,
    isStatic: () => false,
  });
  return { table, clock, hungUp, banned, events };
}

describe("PeerTable", () => {
  it("bans with expiry, keeps the longer of two bans, and emits once", async () => {
    const { table, clock, hungUp, events } = makeTable();
    const bans: string[] = [];
    events.on("p2p.peer.banned", (e) => {
      bans.push(e.reason);
    });
    const p = peerOf(1);
    table.ban(p, "first", 10_000);
    table.ban(p, "second", 1_000);
    await new Promise((resolve) => setImmediate(resolve)); // listeners run after emit returns
    expect(bans).toEqual(["first"]);
    expect(hungUp).toEqual([p.toString(), p.toString()]);
    expect(table.bannedUntil(p.toString())).toBe(11_000);
    clock.advance(10_000);
    expect(table.isBanned(p)).toBe(false);
  });

  it("counts penalties in the window and says when the limit is reached", () => {
    const { table, clock } = makeTable({ maxPenalties: 3, penaltyWindowMs: 1_000 });
    const id = peerOf(2).toString();
    expect(table.penalize(id, "x")).toBe(false);
    expect(table.penalize(id, "x")).toBe(false);
    clock.advance(1_001);
    expect(table.penaltyCount(id)).toBe(0);
    expect(table.penalize(id, "x")).toBe(false);
    expect(table.penalize(id, "x")).toBe(false);
    expect(table.penalize(id, "x")).toBe(true);
  });

  it("refuses a peer over the connection limit unless privileged; remove fails its handshake", async () => {
    const { table } = makeTable({ maxConnections: 1 });
    const rec = table.add(peerOf(3), undefined);
    expect(table.makeRoomFor(peerOf(4).toString())).toBe(false);
    expect(table.remove(peerOf(3).toString())).toBe(true);
    await expect(rec.ready).rejects.toMatchObject({ code: "P2P_PEER_GONE" });
    expect(table.remove(peerOf(3).toString())).toBe(false);
    expect(table.makeRoomFor(peerOf(4).toString())).toBe(true);
  });
});
