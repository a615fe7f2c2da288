import { DevnetError, DevnetErrorCode } from "../errors.ts";

/**
 * The WAN testbed's pure core: which namespaces, interfaces and addresses a set of nodes gets,
 * the exact `ip` argv lists that make and remove them, and the directed links a partition cuts.
 * Nothing here runs a command (driver.ts does), so every rule is tested without root.
 *
 *   node i (1-based): namespace <p>-<name>; veth <p>h<i> 10.<o>.<i>.254/24 in the root
 *                     namespace <-> eth0 10.<o>.<i>.1/24 in the node's namespace
 *
 * There is no bridge and no route between nodes (and the root namespace does not forward): the
 * only path from one node to another is the link relay (linkRelay.ts) listening on the host
 * side of the sender's veth, which applies each direction's delay, jitter, loss, bandwidth and
 * cuts. This kernel has no netem (CONFIG_NET_SCH_NETEM unset, ADR 0161).
 */

export type LinkShape = {
  /** One-way delay, ms (an RTT of 100 ms is 50 ms each way). */
  delayMs: number;
  /** +- jitter, ms (uniform; a TCP stream keeps its order, so a late chunk delays the next). */
  jitterMs: number;
  /** Loss, percent 0..100 (100 = the direction is cut); on a relay a lost chunk waits one RTO. */
  lossPct: number;
  /** Bandwidth, Mbit/s; 0 = unlimited. */
  rateMbit: number;
};

export const UNSHAPED: LinkShape = { delayMs: 0, jitterMs: 0, lossPct: 0, rateMbit: 0 };

export type TestbedNodePlan = {
  name: string;
  /** 1-based position: the third octet of its link. */
  index: number;
  netns: string;
  ip: string;
  /** The root-namespace end of the veth pair, and its address (the node's only peer). */
  hostIf: string;
  hostIp: string;
};

export type TestbedPlan = {
  prefix: string;
  /** The second octet: node i's link is 10.<octet>.<i>.0/24. */
  octet: number;
  nodes: TestbedNodePlan[];
};

export type Argv = string[];

/** Names of interfaces are at most 15 bytes; the prefix keeps room for "h"/"n" + two digits. */
const PREFIX_RE = /^[a-z][a-z0-9]{1,9}$/;
const NAME_RE = /^[a-z][a-z0-9]{0,15}$/;
export const MAX_TESTBED_NODES = 99;
const IN_NS_IF = "eth0";

export function planTestbed(names: string[], opts: { prefix: string; octet: number }): TestbedPlan {
  if (!PREFIX_RE.test(opts.prefix)) {
    throw new DevnetError(
      DevnetErrorCode.TestbedPlan,
      `testbed prefix ${JSON.stringify(opts.prefix)}: 2-10 of [a-z0-9], a letter first`,
    );
  }
  if (!Number.isInteger(opts.octet) || opts.octet < 1 || opts.octet > 254) {
    throw new DevnetError(DevnetErrorCode.TestbedPlan, `testbed subnet octet ${opts.octet}: 1-254`);
  }
  if (names.length === 0 || names.length > MAX_TESTBED_NODES) {
    throw new DevnetError(
      DevnetErrorCode.TestbedPlan,
      `a testbed holds 1-${MAX_TESTBED_NODES} nodes, not ${names.length}`,
    );
  }
  const seen = new Set<string>();
  const nodes = names.map((name, i) => {
    if (!NAME_RE.test(name) || seen.has(name)) {
      throw new DevnetError(
        DevnetErrorCode.TestbedPlan,
        `node name ${JSON.stringify(name)}: unique, [a-z0-9], a letter first`,
      );
    }
    seen.add(name);
    return {
      name,
      index: i + 1,
      netns: `${opts.prefix}-${name}`,
      ip: `10.${opts.octet}.${i + 1}.1`,
      hostIf: `${opts.prefix}h${i + 1}`,
      hostIp: `10.${opts.octet}.${i + 1}.254`,
    };
  });
  return { prefix: opts.prefix, octet: opts.octet, nodes };
}

export function planNode(plan: TestbedPlan, name: string): TestbedNodePlan {
  const n = plan.nodes.find((x) => x.name === name);
  if (!n) throw new DevnetError(DevnetErrorCode.TestbedUnknownNode, `no testbed node named ${name}`);
  return n;
}

export function checkShape(s: LinkShape): LinkShape {
  const ok =
    Number.isFinite(s.delayMs) &&
    s.delayMs >= 0 &&
    s.delayMs <= 60_000 &&
    Number.isFinite(s.jitterMs) &&
    s.jitterMs >= 0 &&
    s.jitterMs <= 60_000 &&
    Number.isFinite(s.lossPct) &&
    s.lossPct >= 0 &&
    s.lossPct <= 100 &&
    Number.isFinite(s.rateMbit) &&
    s.rateMbit >= 0 &&
    s.rateMbit <= 100_000;
  if (!ok) throw new DevnetError(DevnetErrorCode.TestbedShape, `bad link shape ${JSON.stringify(s)}`);
  return s;
}

/** Namespaces, veth pairs, addresses (lo up in each namespace). */
export function setupCommands(plan: TestbedPlan): Argv[] {
  const cmds: Argv[] = [];
  for (const n of plan.nodes) {
    const tmp = `${plan.prefix}n${n.index}`;
    cmds.push(
      ["ip", "netns", "add", n.netns],
      ["ip", "link", "add", n.hostIf, "type", "veth", "peer", "name", tmp],
      ["ip", "link", "set", tmp, "netns", n.netns],
      ["ip", "netns", "exec", n.netns, "ip", "link", "set", tmp, "name", IN_NS_IF],
      ["ip", "netns", "exec", n.netns, "ip", "addr", "add", `${n.ip}/24`, "dev", IN_NS_IF],
      ["ip", "netns", "exec", n.netns, "ip", "link", "set", IN_NS_IF, "up"],
      ["ip", "netns", "exec", n.netns, "ip", "link", "set", "lo", "up"],
      ["ip", "addr", "add", `${n.hostIp}/24`, "dev", n.hostIf],
      ["ip", "link", "set", n.hostIf, "up"],
    );
  }
  return cmds;
}

/** Removing a namespace removes its veth end, which removes the pair. */
export function teardownCommands(plan: TestbedPlan): Argv[] {
  return plan.nodes.map((n): Argv => ["ip", "netns", "delete", n.netns]);
}

/**
 * The directed links a partition cuts: every direction from a node of `a` to one of `b`, and
 * back unless `oneWay` (then `b` hears nothing from `a`, while `a` still hears `b`).
 */
export function partitionLinks(
  plan: TestbedPlan,
  a: string[],
  b: string[],
  oneWay = false,
): [string, string][] {
  for (const x of [...a, ...b]) planNode(plan, x);
  const overlap = a.filter((x) => b.includes(x));
  if (overlap.length > 0)
    throw new DevnetError(DevnetErrorCode.TestbedShape, `${overlap.join(",")} on both sides of a partition`);
  const out: [string, string][] = [];
  for (const x of a)
    for (const y of b) {
      out.push([x, y]);
      if (!oneWay) out.push([y, x]);
    }
  return out;
}

/** Every directed link of the testbed. */
export function allLinks(plan: TestbedPlan): [string, string][] {
  const out: [string, string][] = [];
  for (const a of plan.nodes) for (const b of plan.nodes) if (a !== b) out.push([a.name, b.name]);
  return out;
}
