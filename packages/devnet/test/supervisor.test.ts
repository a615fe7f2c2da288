import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sendControl } from "../src/control.ts";
import { type Devnet, startDevnet } from "../src/devnet.ts";
import { readState } from "../src/state.ts";

// These tests drive the supervisor with a FAKE `dseq start` (test/fakeDseq.mjs: an HTTP
// server that answers eth_blockNumber), so process handling, the control endpoint and the CLI
// are tested with real processes whatever the state of the node. The e2e tests use the node.
const FAKE = resolve(import.meta.dirname, "fakeDseq.mjs");
const CLI = resolve(import.meta.dirname, "..", "src", "cli.ts");
const root = mkdtempSync(join(tmpdir(), "devnet-sup-"));
const devnets: Devnet[] = [];
afterAll(async () => {
  await Promise.all(devnets.map((d) => d.stop()));
  rmSync(root, { recursive: true, force: true });
});

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Asynchronous on purpose: the control endpoint lives in this test process.
function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, DSEQ_DEVNET_BIN: FAKE },
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 60_000,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.once("exit", (code) => resolveRun({ code, stdout, stderr }));
  });
}

describe("startDevnet (fake node processes)", () => {
  it("starts, injects faults through the control endpoint and the CLI, and stops everything", async () => {
    const dir = join(root, "a");
    const d = await startDevnet({
      dataDir: dir,
      validators: 2,
      followers: 1,
      dseqBin: FAKE,
      loadAccounts: 4,
    });
    devnets.push(d);
    expect(d.nodes.map((n) => n.name)).toEqual(["v1", "v2", "f1"]);
    expect(d.nodes.every((n) => n.state === "running" && alive(n.pid))).toBe(true);
    expect(readFileSync(d.node("f1").logPath, "utf8")).toContain('"mode":"follower"');

    const state = readState(dir);
    expect(state?.supervisorPid).toBe(process.pid);
    expect(state?.nodes.map((n) => n.rpcUrl)).toEqual(d.nodes.map((n) => n.rpcUrl));

    // kill = SIGKILL
    const v1 = d.node("v1");
    const pid1 = v1.pid;
    expect(await sendControl(dir, "kill", "v1")).toMatchObject({ node: "v1", state: "stopped" });
    expect(v1.lastExit).toEqual({ code: null, signal: "SIGKILL" });
    expect(alive(pid1)).toBe(false);
    expect(readState(dir)?.nodes[0]?.state).toBe("stopped");
    // restart = same config, new process
    await sendControl(dir, "restart", "v1");
    expect(v1.state).toBe("running");
    expect(v1.pid).not.toBe(pid1);
    await v1.waitReady(10_000);
    // pause / resume
    await sendControl(dir, "pause", "v2");
    expect(d.node("v2").state).toBe("paused");
    await sendControl(dir, "resume", "v2");
    expect(d.node("v2").state).toBe("running");

    // the same from another terminal: `devnet kill v2 --datadir ...`
    const r = await runCli(["kill", "v2", "--datadir", dir]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/v2: kill done/);
    expect(d.node("v2").state).toBe("stopped");
    const bad = await runCli(["pause", "v9", "--datadir", dir]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/no node named v9/);

    const pids = d.nodes.map((n) => n.pid);
    await d.stop();
    for (const pid of pids) expect(alive(pid)).toBe(false);
    expect(existsSync(join(dir, "devnet.json"))).toBe(false);
    expect(readFileSync(v1.logPath, "utf8")).toContain("fake node stopping"); // SIGTERM, not SIGKILL

    const none = await runCli(["kill", "v1", "--datadir", dir]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no devnet is running/);
  }, 90_000);

  it("reuses an existing data dir (same keys), refuses a mismatch, and --fresh regenerates", async () => {
    const dir = join(root, "b");
    const d1 = await startDevnet({
      dataDir: dir,
      validators: 1,
      followers: 0,
      dseqBin: FAKE,
      loadAccounts: 2,
    });
    devnets.push(d1);
    const addr = d1.node("v1").address;
    await d1.stop();
    const d2 = await startDevnet({ dataDir: dir, dseqBin: FAKE });
    devnets.push(d2);
    expect(d2.node("v1").address).toBe(addr);
    await expect(startDevnet({ dataDir: dir, dseqBin: FAKE })).rejects.toMatchObject({
      code: "DEVNET_RUNNING",
    });
    await d2.stop();
    await expect(startDevnet({ dataDir: dir, validators: 3, dseqBin: FAKE })).rejects.toThrow(
      /validators = 1, not 3: add --fresh/,
    );
    const d3 = await startDevnet({
      dataDir: dir,
      validators: 1,
      followers: 0,
      fresh: true,
      dseqBin: FAKE,
      loadAccounts: 2,
    });
    devnets.push(d3);
    expect(d3.node("v1").address).not.toBe(addr);
    await d3.stop();
  }, 90_000);

  it("reports a node that exits at start-up with its log lines, and leaves nothing running", async () => {
    const dir = join(root, "c");
    const crash = resolve(root, "crash.mjs");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(crash, 'console.error("config error: rpc.http.port: in use"); process.exit(1);\n');
    await expect(
      startDevnet({ dataDir: dir, validators: 1, followers: 0, dseqBin: crash, loadAccounts: 1 }),
    ).rejects.toThrow(/v1 exited \(code 1[\s\S]*config error: rpc.http.port: in use/);
    expect(existsSync(join(dir, "devnet.json"))).toBe(false);
  }, 60_000);
});

/** The devnet CLI with fake nodes, its output collected; `waitFor` polls the output for a line. */
function startCli(dir: string, args: string[]) {
  const child = spawn(process.execPath, [CLI, "--datadir", dir, ...args], {
    env: { ...process.env, DSEQ_DEVNET_BIN: FAKE },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const run = {
    child,
    out: "",
    exited: new Promise<number | null>((r) => child.once("exit", (code) => r(code))),
  };
  child.stdout.on("data", (c) => (run.out += c));
  child.stderr.on("data", (c) => (run.out += c));
  const waitFor = async (line: string): Promise<void> => {
    const end = Date.now() + 60_000;
    while (!run.out.includes(line)) {
      if (Date.now() > end) throw new Error(`no "${line}" line:\n${run.out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return Object.assign(run, { waitFor });
}

describe("devnet CLI (fake node processes)", () => {
  it("exits 2 with a clear message on bad options", async () => {
    const r = await runCli(["--validators", "0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--validators must be between 1 and 32/);
    expect(r.stderr).toMatch(/Usage:/);
  });

  it("start prints the URLs and a funded account, and Ctrl-C stops every node", async () => {
    const dir = join(root, "d");
    const cli = startCli(dir, ["--validators", "2", "--followers", "1"]);
    try {
      await cli.waitFor("Ctrl-C stops everything");
      const out = cli.out;
      expect(out).toMatch(/v1 +validator +0x[0-9a-f]{40} +rpc http:\/\/127\.0\.0\.1:\d+/);
      expect(out).toMatch(/f1 +follower/);
      expect(out).toContain("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"); // funded, well-known
      const pids = (readState(dir)?.nodes ?? []).map((n) => n.pid);
      expect(pids.every(alive)).toBe(true);
      cli.child.kill("SIGINT");
      expect(await cli.exited).toBe(0);
      expect(cli.out).toContain("devnet stopped");
      for (const pid of pids) expect(alive(pid)).toBe(false);
    } finally {
      cli.child.kill("SIGKILL");
    }
  }, 90_000);

  it("Ctrl-C during start-up waits for the nodes, then stops every one of them", async () => {
    const dir = join(root, "e");
    const cli = startCli(dir, ["--validators", "2", "--followers", "0"]);
    try {
      await cli.waitFor("starting nodes");
      cli.child.kill("SIGINT");
      expect(await cli.exited).toBe(0);
      const out = cli.out;
      expect(out).toContain("stopping as soon as start-up is done");
      expect(out).toContain("devnet stopped");
      const pids = (readState(dir)?.nodes ?? []).map((n) => n.pid);
      for (const pid of pids) expect(alive(pid)).toBe(false);
    } finally {
      cli.child.kill("SIGKILL");
    }
  }, 90_000);
});
