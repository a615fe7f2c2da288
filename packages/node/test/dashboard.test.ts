import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, createMetrics } from "@dseq/common";
import { sequencerKeyToPeerId } from "@dseq/p2p";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NodeStatus } from "../src/admin.ts";
import { type ChainSpecInput, keyInfo, parseChainSpec, parseNodeConfig } from "../src/index.ts";
import { DseqNode } from "../src/node.ts";
import { devKey, freePort } from "./helpers/localNet.ts";

/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core) against a
 * running 4-validator network in this process, each node with its admin server on. Outside CI a
 * machine without chromium skips with a notice; in CI (CI=true) a missing chromium fails.
 */
const CHROMIUM = process.env.DSEQ_CHROMIUM ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === "true" || process.env.CI === "1";
if (!haveChromium && !inCi)
  process.stderr.write(
    `\n  NOTICE: no chromium at ${CHROMIUM}; the dashboard browser test is skipped (apt-get install -y chromium).\n\n`,
  );
export const SCREENSHOT = process.env.DSEQ_SCREENSHOT ?? join(tmpdir(), "dseq-dashboard.png");

type Net = { nodes: DseqNode[]; admin: string[]; dir: string };

async function startNet(n: number): Promise<Net> {
  const dir = mkdtempSync(join(tmpdir(), "dseq-dash-"));
  const keys = Array.from({ length: n }, (_, i) => devKey(`dashboard ${i}`));
  const infos = keys.map((k) => keyInfo(k));
  const spec: ChainSpecInput = {
    chainId: 1337,
    blockTimeMs: 1000,
    genesis: { timestamp: Math.floor(Date.now() / 1000), alloc: {} },
    validators: infos.map((info, i) => ({
      id: i + 1,
      owner: info.address.toLowerCase(),
      signer: info.address.toLowerCase(),
      signerPubkey: info.publicKey,
      // Unequal stakes, so the power column says something.
      locked: ((30_000n + 10_000n * BigInt(i)) * 10n ** 18n).toString(),
      rewardRecipient: info.address.toLowerCase(),
    })),
    rotation: { spanLength: 10, reelectAfterMisses: 3 },
  };
  const parsed = parseChainSpec(spec);
  const p2pPorts = await Promise.all(keys.map(() => freePort()));
  const adminPorts = await Promise.all(keys.map(() => freePort()));
  const addrs = await Promise.all(
    keys.map(
      async (k, i) => `/ip4/127.0.0.1/tcp/${p2pPorts[i]}/p2p/${(await sequencerKeyToPeerId(k)).toString()}`,
    ),
  );
  const nodes = keys.map(
    (k, i) =>
      new DseqNode(
        parseNodeConfig({
          dataDir: join(dir, `n${i}`),
          chain: { genesis: join(dir, "chain.json") },
          p2p: { listen: [`/ip4/127.0.0.1/tcp/${p2pPorts[i]}`], bootstrap: addrs.filter((_, j) => j !== i) },
          rpc: { http: { enabled: false }, ws: { enabled: false } },
          admin: { enabled: true, host: "127.0.0.1", port: adminPorts[i] },
        }),
        parsed,
        {
          logger: createLogger({ level: "warn", base: { node: `n${i}` } }),
          metrics: createMetrics(),
          privateKey: k,
        },
      ),
  );
  await Promise.all(nodes.map((node) => node.start()));
  return { nodes, admin: nodes.map((node) => node.endpoints.admin as string), dir };
}

/**
 * The share of a PNG's pixels within 40 of `rgb` (per channel), decoded by the browser itself on
 * a blank page (the dashboard's CSP rightly refuses data: images).
 */
async function colorShare(browser: Browser, png: Buffer, rgb: [number, number, number]): Promise<number> {
  const page = await browser.newPage();
  try {
    // Runs in the browser (this project type-checks without the DOM lib, hence a string).
    const script = `(async () => {
      const [r, g, b] = ${JSON.stringify(rgb)};
      const img = new Image();
      img.src = "data:image/png;base64,${png.toString("base64")}";
      await img.decode();
      const c = document.createElement("canvas");
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext("2d");
      ctx.drawImage(img, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      let hit = 0;
      for (let i = 0; i < d.length; i += 4)
        if (Math.abs(d[i] - r) < 40 && Math.abs(d[i + 1] - g) < 40 && Math.abs(d[i + 2] - b) < 40) hit++;
      return hit / (d.length / 4);
    })()`;
    return (await page.evaluate(script)) as number;
  } finally {
    await page.close();
  }
}
const GREEN: [number, number, number] = [0x3f, 0xb9, 0x50];
const RED: [number, number, number] = [0xf8, 0x51, 0x49];

async function status(url: string): Promise<NodeStatus> {
  return (await (await fetch(`${url}/api/status`)).json()) as NodeStatus;
}

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.runIf(haveChromium || inCi)("dashboard in headless chromium", () => {
  let net: Net | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!haveChromium) throw new Error(`CI: chromium is missing at ${CHROMIUM} (.ci/run installs it)`);
    net = await startNet(4);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"], headless: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (net) {
      await Promise.all(net.nodes.map((n) => n.stop()));
      rmSync(net.dir, { recursive: true, force: true });
    }
  });

  it("shows what the node reports, updates live over SSE, and tells a stalled chain apart", async () => {
    const { admin, nodes } = net as Net;
    // The page under test is that of a node which has proposed a block already (round 0 belongs
    // to the span's stake-drawn sequencer, so which node that is depends on the draw).
    const pick = await waitFor("a node that proposed, and 6 blocks", async () => {
      for (const [i, a] of admin.entries()) {
        const x = await status(a);
        if (x.head.number >= 6 && x.own.proposed > 0 && x.own.votesIncluded > 0) return i;
      }
      return undefined;
    });
    const url = admin[pick] as string;
    const page = await (browser as Browser).newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${url}/`);
    await page.getByTestId("connection").filter({ hasText: "live" }).waitFor({ timeout: 10_000 });

    // Live: the head on the page moves on without a reload.
    const headOnPage = async (): Promise<number> =>
      Number((await page.getByTestId("head").textContent())?.replace("#", ""));
    const h0 = await headOnPage();
    await waitFor("the page's head to advance", async () =>
      (await headOnPage()) > h0 + 1 ? true : undefined,
    );

    // Values on the page are the node's own report.
    const s = await status(url);
    const text = async (id: string): Promise<string> => (await page.getByTestId(id).textContent()) ?? "";
    expect(await text("address")).toBe(s.address);
    expect(await text("mode")).toContain(`chain ${s.chainId}`);
    expect(await text("mode")).toContain("validator (signing)");
    expect(await text("sync-state")).toBe("synced");
    expect(await text("peers")).toBe(String(s.peers));
    expect(s.peers).toBe(3);
    expect(await text("probes")).toBe("live · ready");
    expect(await text("current-sequencer")).toContain(s.currentSequencer);
    expect(await text("span")).toContain(`#${s.span.index}: blocks ${s.span.startHeight}`);
    expect(s.nextSequencer).toBeDefined();
    expect(await text("next-sequencer")).toContain(s.nextSequencer?.address ?? "?");
    expect(Math.abs((await headOnPage()) - s.head.number)).toBeLessThanOrEqual(2);
    const rows = await page.getByTestId("validators").locator("tr").allTextContents();
    expect(rows).toHaveLength(4);
    for (const [i, v] of [...s.validators].sort((a, b) => a.id - b.id).entries()) {
      expect(rows[i]).toContain(v.address);
      expect(rows[i]).toContain(String(v.power));
    }
    expect(new Set(s.validators.map((v) => v.power)).size).toBe(4);
    for (const id of ["l1", "batches", "tss", "own-claimable"]) expect(await text(id)).toBe("not configured");
    // Own activity: this node proposed and voted, and the page says the same counts.
    const s2 = await waitFor("own proposals and votes", async () => {
      const x = await status(url);
      return x.own.proposed > 0 && x.own.votesIncluded > 0 ? x : undefined;
    });
    await waitFor("the page to show them", async () =>
      Number(await text("own-proposals")) >= s2.own.proposed ? true : undefined,
    );
    expect(await text("own-votes")).toMatch(/^\d+ included, \d+ absent$/);
    expect(await text("own-earned")).toMatch(/^\d+ wei/);
    expect(await text("own-earned")).not.toMatch(/^0 wei/);
    expect(BigInt(s2.own.earned)).toBeGreaterThan(0n);
    // Charts: one point per charted block (the first has no interval yet).
    const points = async (id: string): Promise<number> =>
      ((await page.getByTestId(id).locator("polyline").getAttribute("points")) ?? "").split(" ").length;
    expect(await points("chart-latency")).toBeGreaterThanOrEqual(3);
    expect(await points("chart-interval")).toBeGreaterThanOrEqual(2);
    const blocks = (await status(url)).blocks;
    const intervals = blocks.flatMap((b) => (b.intervalMs === undefined ? [] : [b.intervalMs]));
    const median = [...intervals].sort((a, b) => a - b)[Math.floor(intervals.length / 2)] as number;
    expect(median).toBeGreaterThan(500);
    expect(median).toBeLessThan(1_500);

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const png = readFileSync(SCREENSHOT);
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    expect(png.length).toBeGreaterThan(20_000);
    // The screenshot itself: the sync tile is drawn in the "synced" green, not the alarm red.
    const syncTile = await page.getByTestId("sync-state").screenshot();
    expect(await colorShare(browser as Browser, syncTile, GREEN)).toBeGreaterThan(0.03);
    expect(await colorShare(browser as Browser, syncTile, RED)).toBe(0);

    // Probes: synced node is live and ready.
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);

    // Two of four validators stop: no quorum, no blocks. The survivors see no peer ahead and a
    // stale head: "stalled" (not "stuck"), so readiness fails and liveness holds.
    const others = nodes.filter((_, i) => i !== pick);
    await Promise.all([others[0]?.stop(), others[1]?.stop()]);
    await page.getByTestId("sync-state").filter({ hasText: "stalled" }).waitFor({ timeout: 25_000 });
    expect((await fetch(`${url}/readyz`)).status).toBe(503);
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    expect(await text("probes")).toBe("live · not ready");
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, "-stalled.png"), fullPage: true });
    const stalledTile = await page.getByTestId("sync-state").screenshot();
    expect(await colorShare(browser as Browser, stalledTile, RED)).toBeGreaterThan(0.03);
    expect(await colorShare(browser as Browser, stalledTile, GREEN)).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
