import { describe, expect, it } from "vitest";
import { byzantineConfigPatch, parseByzantineArg, parseByzantineArgs } from "./byzantine.ts";
import { parseDevnetArgs } from "./options.ts";

describe("--byzantine", () => {
  it("turns behaviour words into a node config's byzantine section", () => {
    expect(parseByzantineArg("v1=equivocateVotes,garbageGossip")).toEqual({
      node: "v1",
      section: { equivocateVotes: true, garbageGossip: true },
    });
    expect(parseByzantineArg("v2=wrongRound:max,replayGossip:5,garbageGossip:50").section).toEqual({
      wrongRound: "max",
      replayGossip: true,
      replayTimes: 5,
      garbageGossip: true,
      garbageGossipEveryMs: 50,
    });
    expect(parseByzantineArg("v3=wrongRound").section).toEqual({ wrongRound: "later" });
  });

  it("merges repeated options by node", () => {
    expect(parseByzantineArgs(["v1=hugeHead", "v2=poisonCatchUp", "v1=oversizedBlock"])).toEqual({
      v1: { hugeHead: true, oversizedBlock: true },
      v2: { poisonCatchUp: true },
    });
  });

  it("refuses unknown behaviours, bad arguments and bad node names", () => {
    for (const bad of [
      "v1=flood",
      "v1=",
      "=hugeHead",
      "x1=hugeHead",
      "v1=hugeHead:1",
      "v1=wrongRound:soon",
      "v1=replayGossip:0",
    ])
      expect(() => parseByzantineArg(bad), bad).toThrow(
        expect.objectContaining({ name: "DevnetUsageError" }),
      );
  });

  it("is a start option", () => {
    const cmd = parseDevnetArgs([
      "--byzantine",
      "v1=equivocateVotes,garbageGossip",
      "--byzantine",
      "v2=hugeHead",
    ]);
    expect(cmd).toMatchObject({
      kind: "start",
      byzantine: { v1: { equivocateVotes: true, garbageGossip: true }, v2: { hugeHead: true } },
    });
  });
});

describe("byzantineConfigPatch", () => {
  const network = { nodes: [{ name: "v1" }, { name: "v2" }] } as Parameters<typeof byzantineConfigPatch>[0];

  it("gives the named node its section and leaves the others as they are", () => {
    const patch = byzantineConfigPatch(network, {
      byzantine: { v1: { garbageGossip: true } },
      patchConfig: (_n, c) => ({ ...c, log: { level: "debug" } }),
    });
    expect(patch?.("v1", { mode: "validator" })).toEqual({
      mode: "validator",
      byzantine: { garbageGossip: true },
      log: { level: "debug" },
    });
    expect(patch?.("v2", { mode: "validator" })).toEqual({ mode: "validator", log: { level: "debug" } });
    expect(byzantineConfigPatch(network, {})).toBeUndefined();
  });

  it("refuses a node that is not in the network", () => {
    expect(() => byzantineConfigPatch(network, { byzantine: { v9: { hugeHead: true } } })).toThrow(/v9/);
  });
});
