import { afterEach, describe, expect, it } from "vitest";
import type { P2pHost } from "../src/host.ts";
import { P2pHost as Host } from "../src/host.ts";
import { fastOptions, startNet, type TestNet, waitFor, waitMesh } from "./helpers.ts";

const text = new TextEncoder();

describe("4 hosts on 127.0.0.1", () => {
  let net: TestNet | undefined;
  afterEach(async () => {
    await net?.stopAll();
    net = undefined;
  });

  it("a gossip message reaches every host", async () => {
    net = await startNet(4);
    const got = new Map<number, string[]>();
    net.hosts.forEach((h, i) => {
      got.set(i, []);
      h.subscribe("vote", {
        decode: (d) => new TextDecoder().decode(d),
        validate: () => "accept",
        onMessage: (m) => got.get(i)?.push(m),
      });
    });
    await waitMesh(net.hosts, ["vote"]);
    const publisher = net.hosts[2] as P2pHost;
    const recipients = await publisher.publish("vote", text.encode("hello from 2"));
    expect(recipients).toBe(3);
    await waitFor(() => [0, 1, 3].every((i) => got.get(i)?.length === 1), 5_000, "delivery");
    for (const i of [0, 1, 3]) expect(got.get(i)).toEqual(["hello from 2"]);
    expect(got.get(2)).toEqual([]);
    // every host knows which validator each peer is
    for (const h of net.hosts) {
      for (const p of h.peers()) {
        expect(p.isValidator).toBe(true);
        expect(h.validatorOf(p.peerId)).toBe(p.address);
        expect(h.peerOfValidator(p.address as `0x${string}`)).toBe(p.peerId);
      }
    }
  }, 30_000);

  it("an invalid message is rejected, its sender's score drops until it is disconnected", async () => {
    net = await startNet(4);
    const hosts = net.hosts;
    const accepted: number[] = [0, 0, 0, 0];
    hosts.forEach((h, i) => {
      h.subscribe("vote", {
        decode: (d) => d,
        // a "vote" starting with 0xff fails its (pretend) signature check
        validate: (d) => (d[0] === 0xff ? "reject" : "accept"),
        onMessage: () => {
          accepted[i] = (accepted[i] ?? 0) + 1;
        },
      });
    });
    await waitMesh(hosts, ["vote"]);
    const bad = hosts[3] as P2pHost;
    const honest = hosts.slice(0, 3);
    const banned = new Map<number, { reason: string }>();
    honest.forEach((h, i) => {
      h.events.on("p2p.peer.banned", (e) => {
        if (e.peerId === bad.peerId) banned.set(i, { reason: e.reason });
      });
    });
    for (const h of honest) expect(h.score(bad.peerId)).toBeGreaterThanOrEqual(0);

    const scores: number[][] = [[], [], []];
    for (let n = 0; n < 20 && banned.size < 3; n++) {
      await bad.publish("vote", Uint8Array.of(0xff, n));
      // let the heartbeat refresh the cached score
      await new Promise((r) => setTimeout(r, 150));
      honest.forEach((h, i) => {
        if (!banned.has(i)) scores[i]?.push(h.score(bad.peerId));
      });
    }
    await waitFor(() => banned.size === 3, 5_000, "all honest hosts ban the bad one");
    for (const [i, b] of banned) {
      expect(b.reason).toBe("low_score");
      const s = scores[i] as number[];
      // the score only went down, and below zero before the ban
      expect(s[0]).toBeLessThan(0);
      for (let k = 1; k < s.length; k++) expect(s[k]).toBeLessThanOrEqual((s[k - 1] as number) + 1e-9);
      // at most a handful of rejects: "repeated", not one
      expect(s.length).toBeGreaterThanOrEqual(2);
      expect(s.length).toBeLessThan(10);
    }
    expect(accepted.slice(0, 3)).toEqual([0, 0, 0]);
    await waitFor(() => honest.every((h) => h.peer(bad.peerId) === undefined), 5_000, "disconnect");
    // the ban holds: the bad host's redials are refused
    await new Promise((r) => setTimeout(r, 500));
    for (const h of honest) {
      expect(h.peer(bad.peerId)).toBeUndefined();
      expect(h.isBanned(bad.peerId)).toBe(true);
    }
    // the honest hosts still talk to each other
    await (honest[0] as P2pHost).publish("vote", Uint8Array.of(1, 2, 3));
    await waitFor(() => accepted[1] === 1 && accepted[2] === 1, 5_000, "honest delivery");
    const rejects = await net.metrics[0]?.values("dseq_p2p_gossip_rejects_total");
    expect(rejects?.[0]?.value).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it("a stopped host is reconnected after restart", async () => {
    net = await startNet(4);
    const hosts = net.hosts;
    await waitMesh(hosts);
    const b = hosts[1] as P2pHost;
    const addr = b.multiaddrs()[0] as string;
    const port = /\/tcp\/(\d+)/.exec(addr)?.[1];
    const bId = b.peerId;
    const bStatic = b.opts.staticPeers;
    await b.stop();
    const others = [hosts[0], hosts[2], hosts[3]] as P2pHost[];
    await waitFor(() => others.every((h) => h.peer(bId) === undefined), 5_000, "others see b gone");
    // let the redialers fail a few times and back off
    await new Promise((r) => setTimeout(r, 700));

    const b2 = await Host.create(
      fastOptions(net.keys[1] as Uint8Array, {
        listen: [`/ip4/127.0.0.1/tcp/${port}`],
        staticPeers: bStatic,
      }),
    );
    hosts[1] = b2;
    await b2.start();
    expect(b2.peerId).toBe(bId);
    // hosts 2 and 3 have b as a static peer and redial it; b2 redials host 0 itself
    await waitMesh(hosts);
    for (const h of others) expect(h.peer(bId)?.state).toBe("ready");
    expect(b2.readyPeers().length).toBe(3);

    const got: number[] = [];
    others.forEach((h, i) => {
      h.subscribe("tss", { decode: (d) => d, onMessage: () => got.push(i) });
    });
    b2.subscribe("tss", { decode: (d) => d, onMessage: () => undefined });
    await waitMesh(hosts, ["tss"]);
    await b2.publish("tss", Uint8Array.of(9, 9));
    await waitFor(() => got.length === 3, 5_000, "gossip after restart");
  }, 30_000);

  it("ignore does not penalise, and a full validation queue ignores (counted) instead of growing", async () => {
    net = await startNet(4, { over: (i) => (i === 0 ? { gossip: { maxPendingValidations: 2 } } : {}) });
    const [a, , , d] = net.hosts as [P2pHost, P2pHost, P2pHost, P2pHost];
    let validating = 0;
    let maxValidating = 0;
    let validated = 0;
    a.subscribe("vote", {
      decode: (x) => x,
      validate: async () => {
        validating++;
        maxValidating = Math.max(maxValidating, validating);
        await new Promise((r) => setTimeout(r, 1_000));
        validating--;
        validated++;
        return "ignore" as const;
      },
      onMessage: () => {
        throw new Error("an ignored message must not be delivered");
      },
    });
    for (const h of net.hosts.slice(1)) h.subscribe("vote", { decode: (x) => x, onMessage: () => undefined });
    await waitMesh(net.hosts, ["vote"]);
    await Promise.all(Array.from({ length: 10 }, (_, i) => d.publish("vote", Uint8Array.of(7, i))));
    const dropped = async (): Promise<number> =>
      ((await net?.metrics[0]?.values("dseq_p2p_gossip_dropped_total")) ?? []).reduce(
        (n, v) => n + v.value,
        0,
      );
    const until = Date.now() + 10_000;
    while ((await dropped()) + validated < 10 && Date.now() < until)
      await new Promise((r) => setTimeout(r, 20));
    // every message was either validated or dropped, never more than two at once
    expect((await dropped()) + validated).toBe(10);
    expect(await dropped()).toBeGreaterThanOrEqual(1);
    expect(maxValidating).toBe(2);
    expect(a.score(d.peerId)).toBeGreaterThanOrEqual(0);
    expect(a.isBanned(d.peerId)).toBe(false);
    expect(a.peer(d.peerId)?.state).toBe("ready");
  }, 30_000);

  it("gossip crosses hosts that are not directly connected, forwarded only after validation", async () => {
    net = await startNet(4, { topology: "line" });
    const hosts = net.hosts;
    const got: string[][] = [[], [], [], []];
    const validatedAt: number[][] = [[], [], [], []];
    hosts.forEach((h, i) => {
      h.subscribe("proposal", {
        decode: (x) => Buffer.from(x).toString("utf8"),
        validate: (m) => {
          validatedAt[i]?.push(Date.now());
          return m.startsWith("ok") ? "accept" : "reject";
        },
        onMessage: (m) => got[i]?.push(m),
      });
    });
    await waitFor(
      () => hosts.every((h, i) => h.readyPeers().length === (i === 0 || i === 3 ? 1 : 2)),
      15_000,
      "line",
    );
    await waitFor(
      () => hosts.every((h, i) => h.meshPeers("proposal").length === (i === 0 || i === 3 ? 1 : 2)),
      15_000,
      "meshes along the line",
    );
    expect(hosts[0]?.peer(hosts[3]?.peerId as string)).toBeUndefined();
    await hosts[0]?.publish("proposal", new TextEncoder().encode("ok block 1"));
    await waitFor(() => got[3]?.length === 1, 10_000, "three hops");
    expect(got.slice(1)).toEqual([["ok block 1"], ["ok block 1"], ["ok block 1"]]);
    // an invalid proposal stops at the first hop: host 1 rejects it and does not forward
    await hosts[0]?.publish("proposal", new TextEncoder().encode("bad block"));
    await waitFor(() => validatedAt[1]?.length === 2, 5_000, "host 1 judged it");
    await new Promise((r) => setTimeout(r, 500));
    expect(validatedAt[2]?.length).toBe(1);
    expect(validatedAt[3]?.length).toBe(1);
  }, 30_000);

  it("connection limits hold: a full host refuses further peers, which keep retrying", async () => {
    // a is a full node here (no validator set), so b, c and d are ordinary peers to it
    net = await startNet(4, {
      over: (i) => (i === 0 ? { maxConnections: 2 } : {}),
      modules: (i) => (i === 0 ? { validators: new Set() } : {}),
    });
    const [a, b, c, d] = net.hosts as [P2pHost, P2pHost, P2pHost, P2pHost];
    await waitFor(() => b.readyPeers().length === 3 && c.readyPeers().length === 3, 10_000, "b and c meshed");
    await waitFor(() => d.readyPeers().length === 2, 10_000, "d meets b and c");
    for (let k = 0; k < 10; k++) {
      expect(a.libp2p.getConnections().length).toBeLessThanOrEqual(2);
      expect(a.peers().length).toBeLessThanOrEqual(2);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(a.peer(d.peerId)).toBeUndefined();
    // d keeps trying: when a frees a slot, d gets in
    await b.stop();
    await waitFor(() => a.peer(d.peerId)?.state === "ready", 10_000, "d takes the free slot");
    expect(a.peers().length).toBeLessThanOrEqual(2);
  }, 30_000);
});
