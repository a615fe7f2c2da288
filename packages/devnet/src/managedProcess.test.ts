import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ManagedProcess } from "./managedProcess.ts";

const root = mkdtempSync(join(tmpdir(), "devnet-proc-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// A child that prints a tick every 20 ms and exits 0 on SIGTERM (or ignores it).
function ticker(name: string, opts: { ignoreTerm?: boolean } = {}): ManagedProcess {
  const script = `
    let n = 0;
    setInterval(() => console.log("tick " + n++), 20);
    process.on("SIGTERM", () => { ${opts.ignoreTerm ? 'console.log("ignoring SIGTERM")' : 'console.log("bye"); process.exit(0)'} });
    console.log("started " + process.pid);
  `;
  return new ManagedProcess({
    name,
    command: process.execPath,
    args: ["-e", script],
    logPath: join(root, name, "out.log"),
  });
}

const procs: ManagedProcess[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) await p.kill();
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

const size = (p: ManagedProcess): number => statSync(p.spec.logPath).size;

describe("ManagedProcess", () => {
  it("starts a child that logs to its file, and stop() sends SIGTERM (exit 0)", async () => {
    const p = ticker("a");
    procs.push(p);
    p.start();
    expect(p.state).toBe("running");
    await until(() => readFileSync(p.spec.logPath, "utf8").includes("tick 2"));
    const exit = await p.stop(5000);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(p.state).toBe("stopped");
    expect(readFileSync(p.spec.logPath, "utf8")).toContain("bye");
  });

  it("kill() is SIGKILL: the child's handlers do not run", async () => {
    const p = ticker("b");
    procs.push(p);
    p.start();
    await until(() => readFileSync(p.spec.logPath, "utf8").includes("started"));
    const exit = await p.kill();
    expect(exit).toEqual({ code: null, signal: "SIGKILL" });
    expect(readFileSync(p.spec.logPath, "utf8")).not.toContain("bye");
  });

  it("pause() stops the child (no output) and resume() lets it continue", async () => {
    const p = ticker("c");
    procs.push(p);
    p.start();
    await until(() => readFileSync(p.spec.logPath, "utf8").includes("tick 1"));
    p.pause();
    expect(p.state).toBe("paused");
    await new Promise((r) => setTimeout(r, 100));
    const frozen = size(p);
    await new Promise((r) => setTimeout(r, 300));
    expect(size(p)).toBe(frozen);
    p.resume();
    expect(p.state).toBe("running");
    await until(() => size(p) > frozen);
  });

  it("stop() of a paused child still ends it gracefully", async () => {
    const p = ticker("d");
    procs.push(p);
    p.start();
    await until(() => readFileSync(p.spec.logPath, "utf8").includes("started"));
    p.pause();
    expect(await p.stop(5000)).toEqual({ code: 0, signal: null });
  });

  it("stop() falls back to SIGKILL when the child ignores SIGTERM", async () => {
    const p = ticker("e", { ignoreTerm: true });
    procs.push(p);
    p.start();
    await until(() => readFileSync(p.spec.logPath, "utf8").includes("started"));
    const t0 = Date.now();
    const exit = await p.stop(300);
    expect(exit?.signal).toBe("SIGKILL");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(readFileSync(p.spec.logPath, "utf8")).toContain("ignoring SIGTERM");
  });

  it("restart() runs the same spec again in a new process, after a kill too", async () => {
    const p = ticker("f");
    procs.push(p);
    const starts = (): number => (readFileSync(p.spec.logPath, "utf8").match(/started/g) ?? []).length;
    p.start();
    const pid1 = p.pid;
    await until(() => starts() === 1);
    await p.kill();
    expect(p.state).toBe("stopped");
    await p.restart();
    const pid2 = p.pid;
    expect(pid2).toBeDefined();
    expect(pid2).not.toBe(pid1);
    await until(() => starts() === 2);
    await p.restart(5000); // while running: graceful stop first
    expect(p.pid).not.toBe(pid2);
    await until(() => starts() === 3);
    expect(readFileSync(p.spec.logPath, "utf8")).toContain("bye");
  });

  it("reports an unexpected exit through onExit and refuses a double start", async () => {
    const p = new ManagedProcess({
      name: "g",
      command: process.execPath,
      args: ["-e", "process.exit(3)"],
      logPath: join(root, "g", "out.log"),
    });
    procs.push(p);
    const exits: unknown[] = [];
    p.onExit = (e) => exits.push(e);
    p.start();
    expect(() => p.start()).toThrow(/already running/);
    await p.waitExit();
    expect(exits).toEqual([{ code: 3, signal: null }]);
    expect(p.lastExit).toEqual({ code: 3, signal: null });
  });
});
