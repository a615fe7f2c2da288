import { DevnetError, DevnetErrorCode, DevnetUsageError } from "./errors.ts";
import type { NetworkInfo } from "./network.ts";

/**
 * `--byzantine v1=equivocateVotes,garbageGossip`: the node config's `byzantine` section for one
 * devnet node (ADR 0105; for tests and research only). The node's config schema checks the
 * result again; this parser only turns the command-line words into that section.
 */
export type ByzantineSection = Record<string, boolean | string | number>;

const FLAGS = [
  "equivocateProposals",
  "equivocateVotes",
  "wrongRound",
  "oversizedBlock",
  "garbageGossip",
  "replayGossip",
  "poisonCatchUp",
  "hugeHead",
  "equivocateFragments",
] as const;

const WRONG_ROUND_MODES = ["later", "max", "zero"];

function flag(word: string): ByzantineSection {
  const [name, arg, ...more] = word.split(":");
  if (!(FLAGS as readonly string[]).includes(name as string) || more.length > 0) {
    throw new DevnetUsageError(`unknown byzantine behaviour "${word}" (one of ${FLAGS.join(", ")})`);
  }
  const num = (what: string, min: number, max: number): number => {
    const n = Number(arg);
    if (!/^\d+$/.test(arg as string) || n < min || n > max)
      throw new DevnetUsageError(`${name}:${arg}: ${what} must be a whole number between ${min} and ${max}`);
    return n;
  };
  switch (name) {
    case "wrongRound":
      if (arg !== undefined && !WRONG_ROUND_MODES.includes(arg))
        throw new DevnetUsageError(`wrongRound:${arg}: the mode is one of ${WRONG_ROUND_MODES.join(", ")}`);
      return { wrongRound: arg ?? "later" };
    case "garbageGossip":
      return arg === undefined
        ? { garbageGossip: true }
        : { garbageGossip: true, garbageGossipEveryMs: num("the period in ms", 10, 3_600_000) };
    case "replayGossip":
      return arg === undefined
        ? { replayGossip: true }
        : { replayGossip: true, replayTimes: num("the number of replays", 1, 100) };
    default:
      if (arg !== undefined) throw new DevnetUsageError(`${name} takes no argument, got "${word}"`);
      return { [name as string]: true };
  }
}

/** Parses `<node>=<flag>[,<flag>...]` (`wrongRound[:later|max|zero]`, `garbageGossip[:ms]`, `replayGossip[:times]`). */
export function parseByzantineArg(arg: string): { node: string; section: ByzantineSection } {
  const eq = arg.indexOf("=");
  const node = arg.slice(0, eq);
  if (eq < 1 || !/^[vf]\d+$/.test(node) || eq === arg.length - 1) {
    throw new DevnetUsageError(
      `--byzantine takes <node>=<behaviour>[,<behaviour>...], e.g. v1=equivocateVotes, got "${arg}"`,
    );
  }
  const section: ByzantineSection = {};
  for (const word of arg.slice(eq + 1).split(",")) Object.assign(section, flag(word.trim()));
  return { node, section };
}

/** Every `--byzantine` argument, merged by node. */
export function parseByzantineArgs(args: readonly string[]): Record<string, ByzantineSection> {
  const out: Record<string, ByzantineSection> = {};
  for (const a of args) {
    const { node, section } = parseByzantineArg(a);
    out[node] = { ...out[node], ...section };
  }
  return out;
}

/**
 * The config patch `startDevnet` applies: each named node gets its `byzantine` section, then the
 * caller's own patch runs. A name that is not a node of the network is refused.
 */
export function byzantineConfigPatch(
  network: Pick<NetworkInfo, "nodes">,
  opts: {
    byzantine?: Record<string, ByzantineSection>;
    patchConfig?: (name: string, config: Record<string, unknown>) => Record<string, unknown>;
  },
): ((name: string, config: Record<string, unknown>) => Record<string, unknown>) | undefined {
  const byzantine = opts.byzantine ?? {};
  for (const name of Object.keys(byzantine)) {
    if (!network.nodes.some((n) => n.name === name))
      throw new DevnetError(
        DevnetErrorCode.BadOption,
        `--byzantine names ${name}, which is not a node of this devnet`,
      );
  }
  if (Object.keys(byzantine).length === 0) return opts.patchConfig;
  return (name, cfg) => {
    const withByz = byzantine[name] ? { ...cfg, byzantine: byzantine[name] } : cfg;
    return opts.patchConfig ? opts.patchConfig(name, withByz) : withByz;
  };
}
