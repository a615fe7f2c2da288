import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { DevnetError, DevnetErrorCode } from "../errors.ts";
import { type LinkRelay, startLinkRelay } from "./linkRelay.ts";
import {
  type Argv,
  allLinks,
  checkShape,
  type LinkShape,
  partitionLinks,
  planNode,
  planTestbed,
  setupCommands,
  type TestbedPlan,
  teardownCommands,
  UNSHAPED,
} from "./plan.ts";

const run = promisify(execFile);

/**
 * The thin driver of the WAN testbed: runs plan.ts's `ip` commands (root, iproute2), runs the
 * link relay, removes everything on destroy() and, as a last resort, when the process exits.
 */
export type Testbed = {
  readonly plan: TestbedPlan;
  ipOf(name: string): string;
  netnsOf(name: string): string;
  /** Where a node listens for p2p (the relay forwards there); before its first dial. */
  setP2pPort(name: string, port: number): void;
  /** The address `from` dials to reach `to` (through the relay). */
  dialAddress(from: string, to: string): { host: string; port: number };
  /** The shape of the direction from -> to now. */
  linkShape(from: string, to: string): LinkShape;
  /** Shapes one direction (a link is `shapeLink(a,b,s)` and `shapeLink(b,a,s)`). */
  shapeLink(from: string, to: string, shape: LinkShape): void;
  /** Every direction gets `shape`, which becomes the baseline heal() returns to. */
  shapeAll(shape: LinkShape): void;
  /** Cuts a from b (100 % loss, delay kept); `oneWay`: only a -> b. */
  partition(a: string[], b: string[], opts?: { oneWay?: boolean }): void;
  /** Every direction back to the baseline. */
  heal(): void;
  /** Open relayed connections by "from>to". */
  connections(): Record<string, number>;
  destroy(): Promise<void>;
};

export type CreateTestbedOptions = {
  /** Names of namespaces and interfaces start with it (default `dq` + 4 random hex). */
  prefix?: string;
  /** The subnet 10.<octet>.0.0/24 (default: random in 100-250). */
  octet?: number;
};

async function runAll(cmds: Argv[]): Promise<void> {
  for (const [cmd, ...args] of cmds) {
    try {
      await run(cmd as string, args, { timeout: 10_000 });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new DevnetError(
        DevnetErrorCode.TestbedCommand,
        `${[cmd, ...args].join(" ")}: ${(e.stderr ?? e.message).trim().slice(0, 300)}`,
        {},
        err,
      );
    }
  }
}

function runAllQuietSync(cmds: Argv[]): void {
  for (const [cmd, ...args] of cmds) {
    try {
      execFileSync(cmd as string, args, { stdio: "ignore", timeout: 10_000 });
    } catch {
      // already gone
    }
  }
}

const live = new Set<TestbedPlan>();
let hooked = false;
function track(plan: TestbedPlan): void {
  live.add(plan);
  if (hooked) return;
  hooked = true;
  process.on("exit", () => {
    for (const p of live) runAllQuietSync(teardownCommands(p));
  });
}

/**
 * Whether this process can make network namespaces (root, iproute2, a kernel that allows it):
 * makes and removes a probe namespace. `reason` says why not.
 */
export async function canUseNetns(): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (process.platform !== "linux")
    return { ok: false, reason: `netns needs Linux, not ${process.platform}` };
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    return { ok: false, reason: "netns needs root (uid 0)" };
  }
  const probe = `dqprobe${randomBytes(3).toString("hex")}`;
  try {
    await run("ip", ["netns", "add", probe], { timeout: 10_000 });
    await run("ip", ["netns", "exec", probe, "ip", "link", "show"], { timeout: 10_000 });
  } catch (err) {
    return { ok: false, reason: `cannot make a namespace: ${(err as Error).message.split("\n")[0]}` };
  } finally {
    await run("ip", ["netns", "delete", probe]).catch(() => {});
  }
  return { ok: true };
}

export async function createTestbed(names: string[], opts: CreateTestbedOptions = {}): Promise<Testbed> {
  const plan = planTestbed(names, {
    prefix: opts.prefix ?? `dq${randomBytes(2).toString("hex")}`,
    octet: opts.octet ?? 100 + ((randomBytes(1)[0] as number) % 150),
  });
  track(plan);
  const ports = new Map<string, number>();
  let relay: LinkRelay;
  try {
    await runAll(setupCommands(plan));
    relay = await startLinkRelay(plan.nodes, UNSHAPED, (name) => ports.get(name));
  } catch (err) {
    runAllQuietSync(teardownCommands(plan));
    live.delete(plan);
    throw err;
  }
  let baseline: LinkShape = UNSHAPED;
  let destroyed = false;
  const shapeLink = (from: string, to: string, shape: LinkShape): void => {
    if (destroyed) throw new DevnetError(DevnetErrorCode.TestbedGone, "the testbed was destroyed");
    planNode(plan, from);
    planNode(plan, to);
    relay.setShape(from, to, checkShape(shape));
  };
  return {
    plan,
    ipOf: (name) => planNode(plan, name).ip,
    netnsOf: (name) => planNode(plan, name).netns,
    setP2pPort(name, port) {
      planNode(plan, name);
      ports.set(name, port);
    },
    dialAddress: (from, to) => relay.addressOf(from, to),
    linkShape: (from, to) => relay.shapeOf(from, to),
    shapeLink,
    shapeAll(shape) {
      baseline = { ...checkShape(shape) };
      for (const [a, b] of allLinks(plan)) shapeLink(a, b, baseline);
    },
    partition(a, b, o = {}) {
      for (const [x, y] of partitionLinks(plan, a, b, o.oneWay)) {
        shapeLink(x, y, { ...relay.shapeOf(x, y), lossPct: 100 });
      }
    },
    heal() {
      for (const [a, b] of allLinks(plan)) shapeLink(a, b, baseline);
    },
    connections: () => relay.connections(),
    async destroy() {
      if (destroyed) return;
      destroyed = true;
      await relay.close();
      for (const [cmd, ...args] of teardownCommands(plan)) await run(cmd as string, args).catch(() => {});
      live.delete(plan);
    },
  };
}
