import type { BlockSource } from "@dseq/p2p";
import { describe, expect, it } from "vitest";
import { byzantineBlockSource, byzantineFlags, garbage, oversizedBlockBytes } from "./byzantine.ts";
import { parseNodeConfig } from "./config.ts";
import { decodeConsensusEnvelope } from "./consensusWire.ts";

const base = { dataDir: "/tmp/x", chain: { genesis: "/tmp/chain.json" } };

describe("byzantine options", () => {
  it("are off unless the config has a byzantine section with a flag on", () => {
    expect(parseNodeConfig(base).byzantine).toBeUndefined();
    expect(byzantineFlags(parseNodeConfig(base).byzantine)).toEqual([]);
    expect(byzantineFlags(parseNodeConfig({ ...base, byzantine: {} }).byzantine)).toEqual([]);
    const on = parseNodeConfig({
      ...base,
      byzantine: { equivocateVotes: true, wrongRound: "max" },
    }).byzantine;
    expect(byzantineFlags(on)).toEqual(["equivocateVotes", "wrongRound:max"]);
  });

  it("are strict", () => {
    expect(() => parseNodeConfig({ ...base, byzantine: { flood: true } })).toThrow(/unknown field flood/);
    expect(() => parseNodeConfig({ ...base, byzantine: { wrongRound: "soon" } })).toThrow(
      /byzantine.wrongRound/,
    );
  });

  it("oversized blocks are over the chain's cap and under the proposal topic's 4 MiB", () => {
    const cap = 2 * 1024 * 1024;
    expect(oversizedBlockBytes(cap)).toBeGreaterThan(cap);
    expect(oversizedBlockBytes(cap)).toBeLessThan(4 * 1024 * 1024);
  });

  it("garbage never decodes as a consensus envelope", () => {
    for (let n = 0; n < 40; n++) expect(() => decodeConsensusEnvelope(garbage(n)), `garbage ${n}`).toThrow();
  });
});

describe("byzantineBlockSource", () => {
  const block = new Uint8Array([1, 2, 3]);
  const cert = new Uint8Array([0xc0]);
  const honest: BlockSource = {
    head: () => ({ height: 5n, hash: new Uint8Array(32) }),
    getRange: (from, count) =>
      Array.from({ length: Math.min(count, 6 - Number(from)) }, (_, i) => ({
        height: from + BigInt(i),
        block,
        certificate: cert,
      })),
  };

  it("is the honest source itself without a flag", () => {
    expect(byzantineBlockSource(undefined, honest)).toBe(honest);
    expect(byzantineBlockSource(parseNodeConfig({ ...base, byzantine: {} }).byzantine, honest)).toBe(honest);
  });

  it("claims head 2^62 and poisons every answer", async () => {
    const o = parseNodeConfig({ ...base, byzantine: { hugeHead: true, poisonCatchUp: true } }).byzantine;
    const src = byzantineBlockSource(o, honest);
    expect((await src.head()).height).toBe(2n ** 62n);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await src.getRange(2n, 2));
    expect(new TextDecoder().decode(answers[0]?.[0]?.certificate)).toBe('{"signatures":[{}]}');
    expect(answers[1]?.[0]?.certificate).not.toEqual(cert);
    expect(answers[2]?.map((b) => b.height)).toEqual([1002n, 1003n]);
    expect(answers[3]?.[0]?.height).toBe(2n);
    for (const a of answers) expect(a).toHaveLength(2);
  });
});
