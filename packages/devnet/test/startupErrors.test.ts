// e2e: `dseq start` refuses bad configs, a wrong password, a port in use and a corrupt data dir
// with a clear message and a non-zero exit, and overwrites nothing. Real processes.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DSEQ_BIN } from "../src/devnet.ts";
import { blockNumber, getBlock } from "../src/jsonRpc.ts";
import { ManagedProcess } from "../src/managedProcess.ts";
import { generateNetwork, type NodeLayout, type NodePorts, writeNodeConfigs } from "../src/network.ts";
import { allocatePorts } from "../src/ports.ts";
import { dseqStartAvailable, waitFor } from "./helpers.ts";

const BIN = process.env.DSEQ_DEVNET_BIN ?? DSEQ_BIN;

type Run = { code: number | null; signal: string | null; out: string };

function runStart(configPath: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 40_000): Promise<Run> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    if (env.DSEQ_KEY_PASSWORD === undefined) delete childEnv.DSEQ_KEY_PASSWORD;
    const child = spawn(process.execPath, [BIN, "start", "--config", configPath], {
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (out += c));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, out });
    });
  });
}

// LevelDB rewrites LOG/LOCK on every open, and an open also folds its write-ahead log into a
// table (new *.ldb, MANIFEST, CURRENT) without changing the data: those files are compared only
// in the corrupt-dir test (byte for byte), and the chain itself is checked by starting the node
// again. Keystore, WAL, double-sign guard and journal must stay byte-identical everywhere.
const VOLATILE = new Set(["LOG", "LOG.old", "LOCK"]);
const LEVELDB_FILE = /^(\d+\.(log|ldb)|MANIFEST-\d+|CURRENT)$/;
function snapshot(dir: string, opts: { levelDbFiles?: boolean } = {}): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (!VOLATILE.has(e.name) && (opts.levelDbFiles || !LEVELDB_FILE.test(e.name)))
        out.set(p, createHash("sha256").update(readFileSync(p)).digest("hex"));
    }
  };
  walk(dir);
  return out;
}

function findFiles(dir: string, name: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(p, name));
    else if (e.name === name) out.push(p);
  }
  return out;
}

describe.skipIf(!dseqStartAvailable())("dseq start: clear refusals, nothing overwritten", () => {
  let root: string;
  let node: NodeLayout;
  let before: Map<string, string>;
  let head: { number: number; hash: string };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "devnet-refuse-"));
    const dataDir = join(root, "net");
    const net = await generateNetwork({
      dataDir,
      validators: 1,
      followers: 0,
      blockTimeMs: 1000,
      chainId: 4242,
      spanLength: 10,
      reelectAfterMisses: 3,
      fundedAccounts: 1,
      loadAccounts: 1,
    });
    const p = await allocatePorts(4);
    const ports = new Map<string, NodePorts>([
      ["v1", { p2p: p[0], http: p[1], ws: p[2], admin: p[3] } as NodePorts],
    ]);
    [node] = writeNodeConfigs(dataDir, net, ports) as [NodeLayout];
    // one clean run so the data dir holds a chain, a WAL and a pool journal
    const proc = new ManagedProcess({
      name: "v1",
      command: process.execPath,
      args: [BIN, "start", "--config", node.configPath],
      logPath: node.logPath,
    });
    proc.start();
    try {
      await waitFor(
        "the single validator to commit 2 blocks",
        async () => (await blockNumber(node.rpcUrl, 1000)) >= 2,
        60_000,
      );
      const b = await getBlock(node.rpcUrl, "latest");
      head = { number: Number(b?.number), hash: String(b?.hash) };
    } finally {
      const exit = await proc.stop(15_000);
      expect(exit, readFileSync(node.logPath, "utf8").slice(-2000)).toEqual({ code: 0, signal: null });
    }
    before = snapshot(node.dataDir);
    expect(before.size).toBeGreaterThan(1);
  }, 120_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("bad config: names the field, exits non-zero", async () => {
    const cfg = JSON.parse(readFileSync(node.configPath, "utf8"));
    cfg.rpc.http.port = "eighty";
    cfg.consensus = { timeoutProposeMs: 5 };
    cfg.colour = "blue";
    const bad = join(node.dir, "bad.json");
    writeFileSync(bad, JSON.stringify(cfg));
    const r = await runStart(bad);
    expect(r.code, r.out).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.out).toMatch(/rpc\.http\.port/);
    expect(r.out).toMatch(/consensus\.timeoutProposeMs/);
    expect(r.out).toMatch(/colour/);
    expect(snapshot(node.dataDir)).toEqual(before);
  }, 60_000);

  it("config that is not JSON, and a missing chain spec: clear messages", async () => {
    const bad = join(node.dir, "broken.json");
    writeFileSync(bad, "{ dataDir: ");
    const r = await runStart(bad);
    expect(r.code, r.out).not.toBe(0);
    expect(r.out).toMatch(/not valid JSON/);
    const cfg = JSON.parse(readFileSync(node.configPath, "utf8"));
    cfg.chain.genesis = "../nope.json";
    const noSpec = join(node.dir, "nospec.json");
    writeFileSync(noSpec, JSON.stringify(cfg));
    const r2 = await runStart(noSpec);
    expect(r2.code, r2.out).not.toBe(0);
    expect(r2.out).toMatch(/nope\.json/);
    expect(snapshot(node.dataDir)).toEqual(before);
  }, 60_000);

  it("wrong password: says so, exits non-zero, keystore untouched", async () => {
    // through key.passwordFile: the node reads it before $DSEQ_KEY_PASSWORD
    const wrong = join(node.dir, "wrong-password.txt");
    writeFileSync(wrong, "not-the-password\n");
    const cfg = JSON.parse(readFileSync(node.configPath, "utf8"));
    cfg.key.passwordFile = wrong;
    const path = join(node.dir, "wrong-password.json");
    writeFileSync(path, JSON.stringify(cfg));
    const r = await runStart(path);
    expect(r.code, r.out).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.out).toMatch(/password/i);
    expect(snapshot(node.dataDir)).toEqual(before);
  }, 60_000);

  it("a port in use: names the port, exits non-zero", async () => {
    const srv: Server = createServer();
    await new Promise<void>((ok, fail) => {
      srv.once("error", fail);
      srv.listen(node.ports.http, "127.0.0.1", () => ok());
    });
    try {
      const r = await runStart(node.configPath);
      expect(r.code, r.out).not.toBe(0);
      expect(r.code).not.toBeNull();
      expect(r.out).toMatch(new RegExp(`${node.ports.http}`));
      expect(r.out).toMatch(/in use|EADDRINUSE/i);
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
    expect(snapshot(node.dataDir)).toEqual(before);
  }, 60_000);

  it("after those refusals the same data dir starts and has the same chain", async () => {
    const proc = new ManagedProcess({
      name: "v1-again",
      command: process.execPath,
      args: [BIN, "start", "--config", node.configPath],
      logPath: node.logPath,
    });
    proc.start();
    try {
      await waitFor("RPC back", async () => (await blockNumber(node.rpcUrl, 1000)) >= head.number, 60_000);
      expect((await getBlock(node.rpcUrl, head.number))?.hash).toBe(head.hash);
    } finally {
      expect(await proc.stop(15_000)).toEqual({ code: 0, signal: null });
    }
  }, 90_000);

  it("a corrupt data dir: clear message, exits non-zero, corrupt files left as they are", async () => {
    const currents = findFiles(node.dataDir, "CURRENT");
    expect(currents.length, "LevelDB stores in the data dir").toBeGreaterThan(0);
    for (const c of currents) writeFileSync(c, "garbage-not-a-manifest\n");
    const corrupted = snapshot(node.dataDir, { levelDbFiles: true });
    const r = await runStart(node.configPath);
    expect(r.code, r.out).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.out).toMatch(/corrupt|CURRENT|MANIFEST|cannot open the chain store/i);
    expect(snapshot(node.dataDir, { levelDbFiles: true })).toEqual(corrupted);
    for (const c of currents) expect(readFileSync(c, "utf8"), basename(c)).toBe("garbage-not-a-manifest\n");
    expect(statSync(node.dataDir).isDirectory()).toBe(true);
  }, 60_000);
});
