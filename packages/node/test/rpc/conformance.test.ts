/**
 * execution-apis conformance, replayed the way hive's rpc-compat simulator does: the server
 * runs on the test chain (genesis.json + chain.rlp, head/safe/finalized at headfcu's block),
 * every `.io` file is walked in alphabetical order, each `>>` line is sent and the reply
 * compared in full with the `<<` line (numbers by value; where both are errors only
 * error.message may differ; extra fields fail). `// speconly:` files are checked loosely
 * (same kind of reply). Files of out-of-scope methods are still replayed, since their
 * requests change state later files see (hive does the same), but reported as not implemented.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { vectorsPath } from "@dseq/common/vectors";
import { createRpcServer, type RpcServer } from "@dseq/rpc";
import type { GethGenesis } from "@ethereumjs/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type L2TestBackend, openL2Backend } from "./helpers/l2Backend.ts";

/** The exact request text of a fixture line, posted as is; the reply text as the server wrote it. */
async function postRaw(url: string, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
  return { status: res.status, text: await res.text() };
}

const dir = vectorsPath("execution-apis/tests");

/** Methods this node does not serve (ADR 0135), each with its reason. */
const OUT_OF_SCOPE = [
  // A block builder's test hook for L1 clients driven by a consensus client; dseq builds its
  // own blocks in consensus and has no external builder API.
  /^testing_/,
  // The Engine API is how an L1 consensus client drives an execution client; a dseq node is
  // both, in one process.
  /^engine_/,
];

/** Fixtures of implemented methods that are allowed to fail, each with its reason. */
const SKIP: Record<string, string> = {
  "eth_simulateV1/ethSimulate-blobs.io":
    "blob transactions and the blobBaseFee override: dseq has no blob transactions on L2 (policy, as send-blob-tx)",
  "eth_simulateV1/ethSimulate-empty-with-block-num-set-firstblock.io":
    "base block 1 is pre-Merge: only the state root differs, geth's Ethash engine pays the block reward to the coinbase; dseq applies no PoW reward (a dseq chain has no pre-Merge blocks)",
  "eth_sendRawTransaction/send-blob-tx.io":
    "@dseq/txpool does not admit blob (type 3) transactions: dseq L2 policy, no blob pool (see README)",
};

type Case = { request: string; expected: string };
type Fixture = { file: string; method: string; speconly: boolean; cases: Case[] };

async function walk(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true })) {
    const p = join(root, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.name.endsWith(".io")) out.push(p);
  }
  return out;
}

async function loadFixtures(root: string): Promise<Fixture[]> {
  const files = (await walk(root)).map((f) => relative(root, f)).sort();
  const out: Fixture[] = [];
  for (const file of files) {
    const text = await readFile(join(root, file), "utf8");
    const cases: Case[] = [];
    let speconly = false;
    let pending: string | undefined;
    for (const line of text.split("\n")) {
      if (line.startsWith("//") && /speconly:/.test(line)) speconly = true;
      else if (line.startsWith(">> ")) pending = line.slice(3);
      else if (line.startsWith("<< ") && pending !== undefined) {
        cases.push({ request: pending, expected: line.slice(3) });
        pending = undefined;
      }
    }
    out.push({ file, method: file.split("/")[0] as string, speconly, cases });
  }
  return out;
}

function kind(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** Deep comparison; returns the first difference's path, or undefined when equal. */
export function diff(want: unknown, got: unknown, path = "$"): string | undefined {
  if (typeof want === "number" && typeof got === "number")
    return want === got ? undefined : `${path}: ${want} != ${got}`;
  if (kind(want) !== kind(got))
    return `${path}: expected ${kind(want)} ${JSON.stringify(want)?.slice(0, 80)}, got ${kind(got)} ${JSON.stringify(got)?.slice(0, 80)}`;
  if (Array.isArray(want)) {
    const g = got as unknown[];
    if (want.length !== g.length) return `${path}: length ${want.length} != ${g.length}`;
    for (let i = 0; i < want.length; i++) {
      const d = diff(want[i], g[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (want !== null && typeof want === "object") {
    const w = want as Record<string, unknown>;
    const g = got as Record<string, unknown>;
    for (const k of Object.keys(w)) {
      if (!(k in g)) return `${path}.${k}: missing in ${JSON.stringify(g).slice(0, 200)}`;
      const d = diff(w[k], g[k], `${path}.${k}`);
      if (d !== undefined) return d;
    }
    for (const k of Object.keys(g)) if (!(k in w)) return `${path}.${k}: unexpected field`;
    return undefined;
  }
  return want === got
    ? undefined
    : `${path}: ${JSON.stringify(want)?.slice(0, 100)} != ${JSON.stringify(got)?.slice(0, 100)}`;
}

function compare(expectedText: string, actualText: string, speconly: boolean): string | undefined {
  const want = JSON.parse(expectedText) as Record<string, unknown>;
  let got: Record<string, unknown>;
  try {
    got = JSON.parse(actualText) as Record<string, unknown>;
  } catch {
    return `reply is not JSON: ${actualText.slice(0, 100)}`;
  }
  const wantErr = want.error as Record<string, unknown> | undefined;
  const gotErr = got.error as Record<string, unknown> | undefined;
  if (speconly) {
    if ((wantErr === undefined) !== (gotErr === undefined)) {
      return `expected ${wantErr ? "an error" : "a result"}, got ${JSON.stringify(got).slice(0, 160)}`;
    }
    if (wantErr === undefined && kind(want.result) !== kind(got.result)) {
      return `result kind ${kind(want.result)} != ${kind(got.result)}`;
    }
    return undefined;
  }
  if (wantErr !== undefined && gotErr !== undefined) {
    return diff(
      { ...want, error: { ...wantErr, message: "" } },
      { ...got, error: { ...gotErr, message: "" } },
    );
  }
  return diff(want, got);
}

describe.skipIf(!dir)("[vectors] execution-apis conformance (hive rpc-compat replay)", () => {
  let dataDir: string;
  let l2: L2TestBackend;
  let server: RpcServer;
  let fixtures: Fixture[];

  beforeAll(async () => {
    const root = dir as string;
    dataDir = await mkdtemp(join(tmpdir(), "rpc-conformance-"));
    const genesis = JSON.parse(await readFile(join(root, "genesis.json"), "utf8")) as GethGenesis;
    const rlp = new Uint8Array(await readFile(join(root, "chain.rlp")));
    let imported = 0;
    l2 = await openL2Backend({
      dataDir,
      genesis,
      // geth's simulated blocks are 12 s apart; dseq's are one block time apart (ADR 0133).
      blockTimeMs: 12_000,
      prepare: async (chain) => {
        imported = await chain.importBlocks(rlp, { final: true });
      },
    });
    expect(imported).toBe(54);
    server = createRpcServer(
      { http: { host: "127.0.0.1", port: 0 }, ws: false, maxLogsBlockRange: 100_000 },
      { backend: l2.backend },
    );
    await server.start();
    fixtures = await loadFixtures(root);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await l2?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("replays every fixture; implemented methods pass except the written skip list", async () => {
    const url = server.httpUrl as string;
    type Row = { pass: number; fail: number; skipped: number; notImplemented: boolean };
    const byMethod = new Map<string, Row>();
    const failures: string[] = [];
    const skippedButPassing: string[] = [];
    for (const fx of fixtures) {
      const outOfScope = OUT_OF_SCOPE.some((re) => re.test(fx.method));
      const implemented = !outOfScope && server.registry.has(fx.method);
      let problem: string | undefined;
      for (const c of fx.cases) {
        const res = await postRaw(url, c.request);
        const d = compare(c.expected, res.text, fx.speconly);
        if (d !== undefined && problem === undefined) problem = d;
      }
      const row = byMethod.get(fx.method) ?? { pass: 0, fail: 0, skipped: 0, notImplemented: !implemented };
      byMethod.set(fx.method, row);
      if (!implemented) continue;
      if (problem === undefined) {
        row.pass++;
        if (SKIP[fx.file] !== undefined) skippedButPassing.push(fx.file);
      } else if (SKIP[fx.file] !== undefined) row.skipped++;
      else {
        row.fail++;
        failures.push(`${fx.file}: ${problem}`);
      }
    }
    const lines = ["", "execution-apis conformance by method:"];
    let pass = 0;
    let total = 0;
    for (const [m, r] of [...byMethod].sort(([a], [b]) => a.localeCompare(b))) {
      if (r.notImplemented) {
        lines.push(`  ${m.padEnd(42)} not implemented`);
        continue;
      }
      pass += r.pass;
      total += r.pass + r.fail + r.skipped;
      const skip = r.skipped > 0 ? ` (${r.skipped} skipped)` : "";
      lines.push(
        `  ${m.padEnd(42)} ${r.fail === 0 ? "PASS" : "FAIL"} ${r.pass}/${r.pass + r.fail + r.skipped}${skip}`,
      );
    }
    lines.push(`  implemented fixtures passing: ${pass}/${total}`);
    for (const [file, reason] of Object.entries(SKIP)) lines.push(`  skip ${file}: ${reason}`);
    for (const f of failures) lines.push(`  FAIL ${f}`);
    process.stdout.write(`${lines.join("\n")}\n`);
    expect(failures).toEqual([]);
    expect(skippedButPassing, "skip list entries that now pass should be removed").toEqual([]);

    // Stricter than hive: the speconly txpool_content reply is geth's real output for the same
    // pool, so the pending transactions must match it field for field.
    const content = fixtures.find((f) => f.file === "txpool_content/get-content.io") as Fixture;
    const c = content.cases[0] as Case;
    const strict = compare(c.expected, (await postRaw(url, c.request)).text, false);
    expect(strict).toBeUndefined();
  }, 240_000);
});
