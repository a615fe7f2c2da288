import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { dseqStartAvailable } from "./helpers.ts";

// The README's example must run as written.
describe.skipIf(!dseqStartAvailable())("examples/quickDevnet.ts", () => {
  it("starts a devnet, commits a viem transfer and stops", async () => {
    const file = resolve(import.meta.dirname, "..", "examples", "quickDevnet.ts");
    const r = await new Promise<{ code: number | null; out: string }>((done) => {
      const child = spawn(process.execPath, [file], { stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
      let out = "";
      child.stdout.on("data", (c) => (out += c));
      child.stderr.on("data", (c) => (out += c));
      child.once("exit", (code) => done({ code, out }));
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/transfer 0x[0-9a-f]{64} committed in block \d+ \(success\)/);
  }, 150_000);
});
