import { describe, expect, it } from "vitest";
import {
  allLinks,
  checkShape,
  partitionLinks,
  planTestbed,
  setupCommands,
  teardownCommands,
} from "./plan.ts";

describe("testbed plan", () => {
  const plan = planTestbed(["v1", "v2", "v3"], { prefix: "dqab", octet: 123 });

  it("gives each node its own namespace, veth and /24 link, names within 15 bytes", () => {
    expect(plan.nodes.map((n) => [n.netns, n.ip, n.hostIf, n.hostIp])).toEqual([
      ["dqab-v1", "10.123.1.1", "dqabh1", "10.123.1.254"],
      ["dqab-v2", "10.123.2.1", "dqabh2", "10.123.2.254"],
      ["dqab-v3", "10.123.3.1", "dqabh3", "10.123.3.254"],
    ]);
    const cmds = setupCommands(plan);
    expect(cmds).toContainEqual(["ip", "netns", "add", "dqab-v2"]);
    expect(cmds).toContainEqual(["ip", "link", "add", "dqabh2", "type", "veth", "peer", "name", "dqabn2"]);
    expect(cmds).toContainEqual([
      "ip",
      "netns",
      "exec",
      "dqab-v2",
      "ip",
      "addr",
      "add",
      "10.123.2.1/24",
      "dev",
      "eth0",
    ]);
    expect(cmds).toContainEqual(["ip", "addr", "add", "10.123.2.254/24", "dev", "dqabh2"]);
    // no bridge, no route between nodes: the relay is the only path
    expect(cmds.some((c) => c.includes("bridge") || c.includes("route"))).toBe(false);
    for (const c of cmds)
      for (const a of c) if (/^dqab[hn]\d+$/.test(a)) expect(a.length).toBeLessThanOrEqual(15);
    expect(teardownCommands(plan)).toEqual([
      ["ip", "netns", "delete", "dqab-v1"],
      ["ip", "netns", "delete", "dqab-v2"],
      ["ip", "netns", "delete", "dqab-v3"],
    ]);
  });

  it("refuses names that could become other commands or overlong interfaces", () => {
    expect(() => planTestbed(["v1"], { prefix: "dq;rm", octet: 1 })).toThrow(/prefix/);
    expect(() => planTestbed(["v1"], { prefix: "abcdefghijk", octet: 1 })).toThrow(/prefix/);
    expect(() => planTestbed(["v1", "v1"], { prefix: "dq", octet: 1 })).toThrow(/unique/);
    expect(() => planTestbed(["-x"], { prefix: "dq", octet: 1 })).toThrow(/node name/);
    expect(() => planTestbed(["v1"], { prefix: "dq", octet: 255 })).toThrow(/octet/);
    expect(() => planTestbed([], { prefix: "dq", octet: 1 })).toThrow(/1-99/);
  });

  it("cuts both directions of a partition, one with oneWay, and refuses overlaps", () => {
    expect(partitionLinks(plan, ["v1"], ["v2", "v3"])).toEqual([
      ["v1", "v2"],
      ["v2", "v1"],
      ["v1", "v3"],
      ["v3", "v1"],
    ]);
    expect(partitionLinks(plan, ["v1"], ["v2"], true)).toEqual([["v1", "v2"]]);
    expect(() => partitionLinks(plan, ["v1"], ["v1"])).toThrow(/both sides/);
    expect(() => partitionLinks(plan, ["v9"], ["v1"])).toThrow(/no testbed node/);
    expect(allLinks(plan)).toHaveLength(6);
  });

  it("checks link shapes", () => {
    expect(() => checkShape({ delayMs: -1, jitterMs: 0, lossPct: 0, rateMbit: 0 })).toThrow(/shape/);
    expect(() => checkShape({ delayMs: 1, jitterMs: 0, lossPct: 101, rateMbit: 0 })).toThrow(/shape/);
    expect(() => checkShape({ delayMs: Number.NaN, jitterMs: 0, lossPct: 0, rateMbit: 0 })).toThrow(/shape/);
  });
});
