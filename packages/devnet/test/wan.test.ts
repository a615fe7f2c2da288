// WAN scenarios on the netns testbed (issue #22): 4 validators, every link 100 ms RTT with 1 %
// loss. Needs root and iproute2: skipped with a notice where namespaces cannot be made.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hex } from "@dseq/common";
import { decodeBlockExtra } from "@dseq/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevnetNode } from "../src/devnet.ts";
import { getBlock, rpcCall } from "../src/jsonRpc.ts";
import { defaultGenerateOptions } from "../src/network.ts";
import { canUseNetns } from "../src/testbed/driver.ts";
import { startTestbedDevnet, type TestbedDevnet } from "../src/testbed/testbedDevnet.ts";
import { currentSequencer, dseqStartAvailable, hashesOf, headOf, waitFor } from "./helpers.ts";

const netns = await canUseNetns();
const run = netns.ok && dseqStartAvailable();
if (!netns.ok) process.stderr.write(`SKIPPED packages/devnet/test/wan.test.ts: ${netns.reason}\n`);

const WAN = { delayMs: 50, jitterMs: 0, lossPct: 1, rateMbit: 0 };
/** The sequencer's own links: 250 ms each way, a 500 ms round trip, same loss. */
const SLOW = { ...WAN, delayMs: 250 };
const MISSES = defaultGenerateOptions.reelectAfterMisses;

/**
 * The re-election rule (sequencer-rotation README) replayed on committed blocks of one span: a
 * height whose block is not the sequencer's own is a miss, its own block resets the streak,
 * `MISSES` in a row re-elect it away. Returns the height it was re-elected at, if it was.
 */
function reelectedAt(blocks: { height: number; proposer: string }[], seq: string): number | undefined {
  let streak = 0;
  for (const b of blocks) {
    streak = b.proposer === seq ? 0 : streak + 1;
    if (streak >= MISSES) return b.height;
  }
  return undefined;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every node holds the same hash at every height up to the lowest head: no fork. */
async function expectOneChain(nodes: DevnetNode[]): Promise<number> {
  const heads = await Promise.all(nodes.map(headOf));
  const top = Math.min(...heads);
  const chains = await Promise.all(nodes.map((n) => hashesOf(n, 1, top)));
  for (const c of chains) expect(c).toEqual(chains[0]);
  return top;
}

describe.skipIf(!run)("WAN: 4 validators at 100 ms RTT, 1 % loss", () => {
  let root: string;
  let tb: TestbedDevnet;
  const node = (name: string): DevnetNode => tb.devnet.node(name) as DevnetNode;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "devnet-wan-"));
    tb = await startTestbedDevnet({ dataDir: join(root, "net"), validators: 4, followers: 0, shape: WAN });
    await waitFor("height 2", async () => (await headOf(node("v1"))) >= 2, 40_000);
  }, 90_000);
  afterAll(async () => {
    await tb?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("keeps 2 s blocks", async () => {
    expect(tb.testbed.linkShape("v1", "v3")).toEqual(WAN);
    const h0 = await headOf(node("v1"));
    const t0 = Date.now();
    await sleep(20_000);
    const h1 = await headOf(node("v1"));
    const elapsed = (Date.now() - t0) / 1000;
    // at most one slot of 10 lost to a round change
    expect(h1 - h0).toBeGreaterThanOrEqual(Math.floor(elapsed / 2) - 1);
    const url = node("v1").rpcUrl;
    const stamps: number[] = [];
    for (let h = h0; h <= h1; h++) stamps.push(Number((await getBlock(url, h))?.timestamp));
    const gaps = stamps.slice(1).map((t, i) => t - (stamps[i] as number));
    expect(gaps.filter((g) => g === 2).length).toBeGreaterThanOrEqual(gaps.length - 1);
    await expectOneChain(tb.devnet.nodes);
  }, 60_000);

  it("a 2/2 partition halts without a fork and resumes on heal", async () => {
    tb.testbed.partition(["v1", "v2"], ["v3", "v4"]);
    await sleep(3_000); // a block already voted on may still commit
    const before = await Promise.all(tb.devnet.nodes.map(headOf));
    await sleep(8_000);
    const during = await Promise.all(tb.devnet.nodes.map(headOf));
    expect(during).toEqual(before); // no side has the 3 votes of 4 it needs
    await expectOneChain(tb.devnet.nodes);
    tb.testbed.heal();
    const top = Math.max(...during);
    await waitFor(
      "every node 3 blocks past the halt",
      async () => (await Promise.all(tb.devnet.nodes.map(headOf))).every((h) => h >= top + 3),
      45_000,
      500,
    );
    await expectOneChain(tb.devnet.nodes);
  }, 90_000);

  it("a 3/1 partition goes on and the isolated node catches up on heal", async () => {
    tb.testbed.partition(["v4"], ["v1", "v2", "v3"]);
    await sleep(2_000);
    const v4Before = await headOf(node("v4"));
    const h0 = await headOf(node("v1"));
    await sleep(12_000);
    const h1 = await headOf(node("v1"));
    expect(h1 - h0).toBeGreaterThanOrEqual(3); // 3 of 4 is a quorum
    expect(await headOf(node("v4"))).toBeLessThanOrEqual(v4Before + 1);
    tb.testbed.heal();
    await waitFor(
      "v4 back at v1's head",
      async () =>
        (await headOf(node("v4"))) >= (await headOf(node("v1"))) - 1 && (await headOf(node("v4"))) > h1,
      45_000,
      500,
    );
    await expectOneChain(tb.devnet.nodes);
  }, 90_000);

  it("the sequencer behind a 500 ms link keeps its span or is re-elected away, as the miss rule says", async () => {
    const span = async () =>
      rpcCall<{ startHeight: number; endHeight: number }>(node("v1").rpcUrl, "dseq_span", [], 2000);
    // The whole observation stays inside one span (a span end draws a new sequencer anyway).
    let s = await span();
    if (s.endHeight - (await headOf(node("v1"))) < 14) {
      const end = s.endHeight;
      await waitFor("the next span", async () => (await headOf(node("v1"))) > end, 60_000, 500);
      s = await span();
    }
    const seq = (await currentSequencer(node("v1"))).sequencer.toLowerCase();
    const slow = tb.devnet.nodes.find((n) => n.address === seq);
    expect(slow, `sequencer ${seq} is a devnet validator`).toBeDefined();
    const name = (slow as DevnetNode).name;
    const others = tb.devnet.nodes.filter((n) => n.name !== name);
    for (const o of others) {
      tb.testbed.shapeLink(name, o.name, SLOW);
      tb.testbed.shapeLink(o.name, name, SLOW);
    }
    for (const o of others) expect(tb.testbed.linkShape(o.name, name)).toEqual(SLOW);
    const obs = others[0] as DevnetNode;
    const h0 = await headOf(obs);
    await sleep(16_000);
    const h1 = Math.min(await headOf(obs), s.endHeight);
    tb.testbed.heal();
    expect(h1 - h0).toBeGreaterThanOrEqual(5); // the chain goes on at a pace close to 2 s
    const blocks: { height: number; proposer: string; round: number }[] = [];
    for (let h = h0 + 1; h <= h1; h++) {
      const extra = decodeBlockExtra((await getBlock(obs.rpcUrl, h))?.extraData as Hex);
      blocks.push({ height: h, proposer: extra.proposer.toLowerCase(), round: extra.round });
    }
    const away = reelectedAt(blocks, seq);
    const now = (await currentSequencer(obs)).sequencer.toLowerCase();
    process.stderr.write(
      `wan: sequencer ${name} at 500 ms RTT, heights ${h0 + 1}-${h1}: ${blocks
        .map((b) => `${b.height}:${b.proposer === seq ? "own" : "miss"}/r${b.round}`)
        .join(" ")}; re-elected at ${away ?? "never"}\n`,
    );
    if (away === undefined) expect(now).toBe(seq);
    else {
      expect(now).not.toBe(seq);
      // after the re-election the slow node's blocks no longer count: the others propose round 0
      expect(
        blocks.filter((b) => b.height > away + 1 && b.round === 0).every((b) => b.proposer !== seq),
      ).toBe(true);
    }
    await expectOneChain(tb.devnet.nodes);
  }, 120_000);
});
