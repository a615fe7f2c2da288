import { afterEach, describe, expect, it } from "vitest";
import type { P2pHost } from "../src/host.ts";
import { startNet, type TestNet, waitMesh } from "./helpers.ts";

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
    const { waitFor } = await import("./helpers.ts");
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
});
