import { parseArgs } from "node:util";
import { type ByzantineSection, parseByzantineArgs } from "./byzantine.ts";
import { CONTROL_ACTIONS, type ControlAction } from "./control.ts";
import { DevnetUsageError } from "./errors.ts";
import type { TestbedAction } from "./testbed/control.ts";
import type { LinkShape } from "./testbed/plan.ts";

export const USAGE = `devnet: a local dseq network on 127.0.0.1

Usage:
  pnpm devnet [start] [--validators 4] [--followers 1] [--datadir .devnet] [--block-time 2000]
                      [--fresh] [--span-length 30] [--reelect-after-misses 3]
                      [--byzantine <node>=<behaviour>[,<behaviour>...]] ...
      Generate keys and a chain spec (first run, or with --fresh), start every node as its own
      process, print RPC URLs and funded accounts, one line per committed block. Ctrl-C stops all.
      --byzantine (tests and research only, ADR 0105) makes a node misbehave on purpose:
      equivocateProposals, equivocateVotes, wrongRound[:later|max|zero], oversizedBlock,
      garbageGossip[:ms], replayGossip[:times], poisonCatchUp, hugeHead, equivocateFragments.
      Example: pnpm devnet --fresh --byzantine v1=equivocateVotes,garbageGossip
  pnpm devnet kill|restart|pause|resume|stop|start <node> [--datadir .devnet]
      Fault injection on the running devnet: kill = SIGKILL, pause/resume = SIGSTOP/SIGCONT,
      restart = start the node again with the same config, stop = SIGTERM.
  pnpm devnet status [--datadir .devnet]
  With L1 (the default; --no-l1 for pure consensus research): the dev L1 (Hardhat 3 EDR on
  127.0.0.1, --l1-block-time 1 s, --confirmations 2) with the contracts deployed and the genesis
  validators locked through the LockingPool; batches as --batch-kind calldata (default), blobs,
  or alternate (v1, v3, ... blobs; with blobs the dev L1 automines plus a block-time ticker,
  ADR 0186). On the running devnet:
  pnpm devnet deposit <l2 address> <tokens>     DepositBridge deposit, credited on L2 once
  pnpm devnet add-validator [--lock <tokens>]   new key and node, stake locked: joins next span
  pnpm devnet unlock <node>                     LockingPool unlock: leaves at the next span
  pnpm devnet l1 stop|start                     the nodes' L1 endpoint goes down / comes back
  pnpm devnet load [--tps 100] [--duration 30] [--rpc URL ...] [--datadir .devnet] [--accounts 256]
      Signed transfers from the devnet's load accounts, round-robin over the nodes' RPCs; prints
      sent, accepted, committed and confirmation latency p50/p99.

  pnpm devnet --netns [--rtt 100] [--jitter 0] [--loss 0] [--rate 0] [other start options]
      The WAN testbed (root, iproute2; no dev L1): every node in its own network namespace, the
      links through a relay with --rtt ms round trip, +- --jitter ms each way, --loss % per
      direction, --rate Mbit/s (0 = unlimited). While it runs, from another terminal:
  pnpm devnet testbed shape --rtt 300 [--jitter 20] [--loss 2] [--rate 10] [--from v1 --to v2]
  pnpm devnet testbed partition v1,v2 v3,v4 [--one-way]     cut (one way: only v1,v2 -> v3,v4)
  pnpm devnet testbed heal | show

Nodes are named v1..vN (validators) and f1..fF (followers). Logs: <datadir>/<node>/node.log.
`;

export type StartCommand = {
  kind: "start";
  dataDir: string;
  validators?: number;
  followers?: number;
  blockTimeMs?: number;
  fresh: boolean;
  /** Dev L1 settings; undefined with --no-l1. */
  l1?: {
    blockTimeSeconds?: number;
    confirmations?: number;
    batches?: { kind: "calldata" | "blobs" | "alternate" };
  };
  spanLength?: number;
  reelectAfterMisses?: number;
  /** Node name -> its config's `byzantine` section. */
  byzantine?: Record<string, ByzantineSection>;
  /** --netns: run on the WAN testbed with every link shaped so (no L1). */
  netns?: LinkShape;
};
export type TestbedCommand = { kind: "testbed"; dataDir: string; action: TestbedAction };
export type ControlCommand = { kind: "control"; action: ControlAction; node: string; dataDir: string };
export type StatusCommand = { kind: "status"; dataDir: string };
export type LoadCommand = {
  kind: "load";
  dataDir: string;
  tps: number;
  durationS: number;
  rpc: string[];
  accounts?: number;
};
export type HelpCommand = { kind: "help" };
/** An L1 action on the running supervisor: the control path it posts to. */
export type L1Command = { kind: "l1"; dataDir: string; path: string; what: string };
export type DevnetCommand =
  | StartCommand
  | ControlCommand
  | StatusCommand
  | LoadCommand
  | HelpCommand
  | L1Command
  | TestbedCommand;

/** Decimal tokens ("5", "0.25") in wei. */
export function tokensToWei(v: string): bigint {
  const m = /^(\d+)(?:\.(\d{1,18}))?$/.exec(v);
  if (!m) throw new DevnetUsageError(`amount must be a decimal number of tokens, got "${v}"`);
  return BigInt(m[1] as string) * 10n ** 18n + BigInt((m[2] ?? "").padEnd(18, "0"));
}

export const DEFAULT_DATADIR = ".devnet";

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new DevnetUsageError(`--${name} must be a whole number, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new DevnetUsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

type OptionSpec = Record<string, { type: "string" | "boolean"; multiple?: boolean }>;
type Parsed = { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };

function parse(args: string[], options: OptionSpec): Parsed {
  try {
    const r = parseArgs({
      args,
      options: { ...options, help: { type: "boolean", short: "h" } },
      strict: true,
      allowPositionals: true,
    });
    return { values: r.values as Parsed["values"], positionals: r.positionals };
  } catch (err) {
    throw new DevnetUsageError((err as Error).message);
  }
}

const SHAPE_OPTIONS = {
  rtt: { type: "string" },
  jitter: { type: "string" },
  loss: { type: "string" },
  rate: { type: "string" },
} as const;

function shapeOf(values: Parsed["values"]): LinkShape {
  const rtt = int("rtt", values.rtt as string | undefined, 0, 60_000) ?? 100;
  const loss = values.loss as string | undefined;
  if (loss !== undefined && (!/^\d+(\.\d+)?$/.test(loss) || Number(loss) > 100)) {
    throw new DevnetUsageError(`--loss must be a percentage 0-100, got "${loss}"`);
  }
  return {
    delayMs: rtt / 2,
    jitterMs: int("jitter", values.jitter as string | undefined, 0, 60_000) ?? 0,
    lossPct: loss === undefined ? 0 : Number(loss),
    rateMbit: int("rate", values.rate as string | undefined, 0, 100_000) ?? 0,
  };
}

/** Parses the devnet command line; throws DevnetUsageError (exit 2) on anything wrong. */
export function parseDevnetArgs(argv: string[]): DevnetCommand {
  const first = argv[0];
  const sub = first === undefined || first.startsWith("-") ? "start" : first;
  const rest = first === undefined || first.startsWith("-") ? argv : argv.slice(1);
  if (sub === "help") return { kind: "help" };

  if (sub === "start") {
    const { values, positionals } = parse(rest, {
      validators: { type: "string" },
      followers: { type: "string" },
      datadir: { type: "string" },
      "block-time": { type: "string" },
      fresh: { type: "boolean" },
      "span-length": { type: "string" },
      "reelect-after-misses": { type: "string" },
      byzantine: { type: "string", multiple: true },
      "no-l1": { type: "boolean" },
      "l1-block-time": { type: "string" },
      confirmations: { type: "string" },
      "batch-kind": { type: "string" },
      ...SHAPE_OPTIONS,
      netns: { type: "boolean" },
    });
    if (values.help) return { kind: "help" };
    if (positionals.length > 0) throw new DevnetUsageError(`unexpected argument "${positionals[0]}"`);
    const blockTimeMs = int("block-time", values["block-time"] as string | undefined, 1000, 60_000);
    if (blockTimeMs !== undefined && blockTimeMs % 1000 !== 0) {
      throw new DevnetUsageError(
        `--block-time must be a whole number of seconds in ms (1000, 2000, ...), got ${blockTimeMs}`,
      );
    }
    const cmd: StartCommand = {
      kind: "start",
      dataDir: (values.datadir as string | undefined) ?? DEFAULT_DATADIR,
      fresh: values.fresh === true,
    };
    const validators = int("validators", values.validators as string | undefined, 1, 32);
    const followers = int("followers", values.followers as string | undefined, 0, 16);
    const spanLength = int("span-length", values["span-length"] as string | undefined, 1, 1_000_000);
    const misses = int("reelect-after-misses", values["reelect-after-misses"] as string | undefined, 1, 1000);
    if (validators !== undefined) cmd.validators = validators;
    if (followers !== undefined) cmd.followers = followers;
    if (blockTimeMs !== undefined) cmd.blockTimeMs = blockTimeMs;
    if (spanLength !== undefined) cmd.spanLength = spanLength;
    if (misses !== undefined) cmd.reelectAfterMisses = misses;
    const byzantine = values.byzantine as string[] | undefined;
    if (byzantine !== undefined) cmd.byzantine = parseByzantineArgs(byzantine);
    if (values.netns === true) {
      if (
        values["l1-block-time"] !== undefined ||
        values.confirmations !== undefined ||
        values["batch-kind"] !== undefined
      ) {
        throw new DevnetUsageError(
          "--netns runs without a dev L1: --l1-block-time/--confirmations do not apply",
        );
      }
      cmd.netns = shapeOf(values);
      return cmd;
    }
    for (const k of Object.keys(SHAPE_OPTIONS)) {
      if (values[k] !== undefined) throw new DevnetUsageError(`--${k} needs --netns`);
    }
    if (values["no-l1"] !== true) {
      const bt = int("l1-block-time", values["l1-block-time"] as string | undefined, 1, 60);
      const conf = int("confirmations", values.confirmations as string | undefined, 0, 64);
      const kind = values["batch-kind"] as string | undefined;
      if (kind !== undefined && kind !== "calldata" && kind !== "blobs" && kind !== "alternate") {
        throw new DevnetUsageError(`--batch-kind must be calldata, blobs or alternate, got "${kind}"`);
      }
      cmd.l1 = {
        ...(bt === undefined ? {} : { blockTimeSeconds: bt }),
        ...(conf === undefined ? {} : { confirmations: conf }),
        ...(kind === undefined ? {} : { batches: { kind } }),
      };
    } else if (values["batch-kind"] !== undefined) {
      throw new DevnetUsageError("--batch-kind needs the dev L1 (not --no-l1)");
    }
    return cmd;
  }

  if ((CONTROL_ACTIONS as readonly string[]).includes(sub)) {
    const { values, positionals } = parse(rest, { datadir: { type: "string" } });
    if (values.help) return { kind: "help" };
    if (positionals.length !== 1) {
      throw new DevnetUsageError(`devnet ${sub} takes exactly one node name (v1, v2, ..., f1, ...)`);
    }
    return {
      kind: "control",
      action: sub as ControlAction,
      node: positionals[0] as string,
      dataDir: (values.datadir as string | undefined) ?? DEFAULT_DATADIR,
    };
  }

  if (sub === "deposit" || sub === "add-validator" || sub === "unlock" || sub === "l1") {
    const { values, positionals } = parse(rest, { datadir: { type: "string" }, lock: { type: "string" } });
    if (values.help) return { kind: "help" };
    const dataDir = (values.datadir as string | undefined) ?? DEFAULT_DATADIR;
    if (sub === "deposit") {
      const [to, amount] = positionals;
      if (positionals.length !== 2 || !/^0x[0-9a-fA-F]{40}$/.test(to as string)) {
        throw new DevnetUsageError("devnet deposit takes an L2 address (0x...) and an amount of tokens");
      }
      const wei = tokensToWei(amount as string);
      return { kind: "l1", dataDir, path: `/l1/deposit?to=${to}&amount=${wei}`, what: "deposit" };
    }
    if (sub === "add-validator") {
      if (positionals.length > 0) throw new DevnetUsageError(`unexpected argument "${positionals[0]}"`);
      const lock = values.lock as string | undefined;
      const q = lock === undefined ? "" : `?lock=${tokensToWei(lock)}`;
      return { kind: "l1", dataDir, path: `/validators/add${q}`, what: "add-validator" };
    }
    if (sub === "unlock") {
      if (positionals.length !== 1) throw new DevnetUsageError("devnet unlock takes one node name (v1, ...)");
      return {
        kind: "l1",
        dataDir,
        path: `/validators/${encodeURIComponent(positionals[0] as string)}/unlock`,
        what: "unlock",
      };
    }
    const action = positionals[0];
    if (positionals.length !== 1 || (action !== "stop" && action !== "start")) {
      throw new DevnetUsageError("devnet l1 takes stop or start");
    }
    return { kind: "l1", dataDir, path: `/l1/${action}`, what: `l1 ${action}` };
  }

  if (sub === "testbed") {
    const { values, positionals } = parse(rest, {
      datadir: { type: "string" },
      ...SHAPE_OPTIONS,
      from: { type: "string" },
      to: { type: "string" },
      "one-way": { type: "boolean" },
    });
    if (values.help) return { kind: "help" };
    const dataDir = (values.datadir as string | undefined) ?? DEFAULT_DATADIR;
    const [op, ...args] = positionals;
    if (op === "shape" && args.length === 0) {
      const from = values.from as string | undefined;
      const to = values.to as string | undefined;
      if ((from === undefined) !== (to === undefined))
        throw new DevnetUsageError("testbed shape: --from and --to go together");
      return {
        kind: "testbed",
        dataDir,
        action: {
          op: "shape",
          shape: shapeOf(values),
          ...(from !== undefined && to !== undefined ? { from, to } : {}),
        },
      };
    }
    if (op === "partition" && args.length === 2) {
      const side = (x: string): string[] => {
        const names = x.split(",");
        if (names.some((n) => !/^[a-z][a-z0-9]{0,15}$/.test(n)))
          throw new DevnetUsageError(`testbed partition: bad node list "${x}"`);
        return names;
      };
      return {
        kind: "testbed",
        dataDir,
        action: {
          op: "partition",
          a: side(args[0] as string),
          b: side(args[1] as string),
          ...(values["one-way"] === true ? { oneWay: true } : {}),
        },
      };
    }
    if ((op === "heal" || op === "show") && args.length === 0)
      return { kind: "testbed", dataDir, action: { op } };
    throw new DevnetUsageError(
      "devnet testbed takes shape [--rtt ...] | partition <a,b> <c,d> [--one-way] | heal | show",
    );
  }

  if (sub === "status") {
    const { values, positionals } = parse(rest, { datadir: { type: "string" } });
    if (values.help) return { kind: "help" };
    if (positionals.length > 0) throw new DevnetUsageError(`unexpected argument "${positionals[0]}"`);
    return { kind: "status", dataDir: (values.datadir as string | undefined) ?? DEFAULT_DATADIR };
  }

  if (sub === "load") {
    const { values, positionals } = parse(rest, {
      tps: { type: "string" },
      duration: { type: "string" },
      rpc: { type: "string", multiple: true },
      datadir: { type: "string" },
      accounts: { type: "string" },
    });
    if (values.help) return { kind: "help" };
    if (positionals.length > 0) throw new DevnetUsageError(`unexpected argument "${positionals[0]}"`);
    const rpc = (values.rpc as string[] | undefined) ?? [];
    for (const u of rpc) {
      if (!/^https?:\/\/[^/]+/.test(u))
        throw new DevnetUsageError(`--rpc must be an http(s) URL, got "${u}"`);
    }
    const cmd: LoadCommand = {
      kind: "load",
      dataDir: (values.datadir as string | undefined) ?? DEFAULT_DATADIR,
      tps: int("tps", values.tps as string | undefined, 1, 100_000) ?? 100,
      durationS: int("duration", values.duration as string | undefined, 1, 86_400) ?? 30,
      rpc,
    };
    const accounts = int("accounts", values.accounts as string | undefined, 1, 100_000);
    if (accounts !== undefined) cmd.accounts = accounts;
    return cmd;
  }

  throw new DevnetUsageError(`unknown command "${sub}"`);
}
