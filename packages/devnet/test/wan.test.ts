// WAN scenarios on the netns testbed (issue #22): 4 validators, every link 100 ms RTT with 1 %
// loss. Needs root and iproute2: skipped with a notice where namespaces cannot be made.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevnetNode } from "../src/devnet.ts";
import { getBlock } from "../src/jsonRpc.ts";
import { canUseNetns } from "../src/testbed/driver.ts";
import { startTestbedDevnet, type TestbedDevnet } from "../src/testbed/testbedDevnet.ts";
import { dseqStartAvailable, hashesOf, headOf, waitFor } from "./helpers.ts";

const netns = await canUseNetns();
const run = netns.ok && dseqStartAvailable();
if (!netns.ok) process.stderr.write(`SKIPPED packages/devnet/test/wan.test.ts: ${netns.reason}\n`);

const WAN = { delayMs: 50, jitterMs: 0, lossPct: 1, rateMbit: 0 };
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
});
