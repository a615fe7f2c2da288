import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chainSpecToJson, keyInfo, keystorePath, SCRYPT_LIGHT, writeKeyFile } from "../src/index.ts";
import { devKey, freePort } from "./helpers/localNet.ts";

const bin = resolve(import.meta.dirname, "..", "bin", "dseq.mjs");
const root = mkdtempSync(join(tmpdir(), "dseq-start-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

type Ports = { rpc: number; ws: number; admin: number; p2p: number };

async function setup(name: string): Promise<{ dir: string; config: string; ports: Ports }> {
  const dir = join(root, name);
  const key = devKey(`start ${name}`);
  await writeKeyFile(keystorePath(join(dir, "data")), key, "right", { scrypt: SCRYPT_LIGHT });
  const info = keyInfo(key);
  const a = info.address.toLowerCase();
  writeFileSync(
    join(dir, "chain.json"),
    chainSpecToJson({
      chainId: 1337,
      genesis: { timestamp: Math.floor(Date.now() / 1000), alloc: { [a]: { balance: "1000" } } },
      validators: [
        {
          id: 1,
          owner: a,
          signer: a,
          signerPubkey: info.publicKey,
          locked: (50_000n * 10n ** 18n).toString(),
          rewardRecipient: a,
        },
      ],
    }),
  );
  const ports = {
    rpc: await freePort(),
    ws: await freePort(),
    admin: await freePort(),
    p2p: await freePort(),
  };
  const config = join(dir, "node.json");
  writeFileSync(
    config,
    JSON.stringify({
      dataDir: "data",
      chain: { genesis: "chain.json" },
      p2p: { listen: [`/ip4/127.0.0.1/tcp/${ports.p2p}`] },
      rpc: { http: { port: ports.rpc }, ws: { port: ports.ws } },
      admin: { port: ports.admin },
      log: { format: "json", level: "warn" },
    }),
  );
  return { dir, config, ports };
}

function run(args: string[], password: string, timeout = 60_000) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, DSEQ_KEY_PASSWORD: password },
    timeout,
  });
  return { code: r.status, err: r.stderr, out: r.stdout };
}

function listing(dir: string): string {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      // LevelDB rotates its own info log (LOG, LOG.old) on every open attempt: not data.
      else if (e.name !== "LOG" && e.name !== "LOG.old") out.push(`${p}:${readFileSync(p).length}`);
    }
  };
  walk(dir);
  return out.sort().join("\n");
}

describe("dseq start refuses bad input clearly (real processes)", { timeout: 90_000 }, () => {
  let base: { dir: string; config: string; ports: Ports };
  beforeAll(async () => {
    base = await setup("base");
  });

  it("a bad config names the field and exits non-zero", () => {
    const bad = join(base.dir, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify({ dataDir: "data", chain: { genesis: "chain.json" }, rpc: { http: { port: "x" } } }),
    );
    const r = run(["start", "--config", bad], "right");
    expect(r.code).toBe(1);
    expect(r.err).toContain("rpc.http.port");
  });

  it("a bad chain spec names the field", () => {
    const spec = join(base.dir, "badspec.json");
    writeFileSync(spec, JSON.stringify({ chainId: 0, genesis: { timestamp: 1, alloc: {} }, validators: [] }));
    const cfg = join(base.dir, "badspec-node.json");
    writeFileSync(cfg, JSON.stringify({ dataDir: "data", chain: { genesis: "badspec.json" } }));
    const r = run(["start", "--config", cfg], "right");
    expect(r.code).toBe(1);
    expect(r.err).toContain("chainId");
    expect(r.err).toContain("validators");
  });

  it("a wrong password exits non-zero and leaves the data dir untouched", () => {
    const before = listing(base.dir);
    const r = run(["start", "--config", base.config], "wrong");
    expect(r.code).toBe(1);
    expect(r.err).toContain("could not decrypt key with given password");
    expect(listing(base.dir)).toBe(before);
  });

  it("a port in use is named", async () => {
    const s = await setup("busy");
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(s.ports.rpc, "127.0.0.1", () => r()));
    try {
      const r = run(["start", "--config", s.config], "right");
      expect(r.code).toBe(1);
      expect(r.err).toContain(`127.0.0.1:${s.ports.rpc} is already in use`);
    } finally {
      blocker.close();
    }
  });

  it("a corrupt chain store is refused with a clear message, and not overwritten", async () => {
    const s = await setup("corrupt");
    // Start once so the store exists, then stop it gracefully.
    const child = spawn(process.execPath, [bin, "start", "--config", s.config], {
      env: { ...process.env, DSEQ_KEY_PASSWORD: "right" },
      stdio: "ignore",
    });
    children.push(child);
    const health = `http://127.0.0.1:${s.ports.admin}/health`;
    for (let i = 0; i < 100; i++) {
      const ok = await fetch(health).then(
        (r) => r.json() as Promise<{ head: { number: number } }>,
        () => undefined,
      );
      if (ok && ok.head.number >= 1) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const chainDir = join(s.dir, "data", "chain");
    expect(existsSync(chainDir)).toBe(true);
    const current = readdirSync(chainDir).find((f) => f === "CURRENT");
    expect(current).toBe("CURRENT");
    writeFileSync(join(chainDir, "CURRENT"), "MANIFEST-999999\n");
    const before = listing(s.dir);
    const r = run(["start", "--config", s.config], "right");
    expect(r.code).toBe(1);
    expect(r.err).toContain("cannot open the chain store");
    expect(listing(s.dir)).toBe(before);
  });
});
