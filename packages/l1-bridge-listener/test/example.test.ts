import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("examples/listen.ts", () => {
  it("runs as the README shows", async () => {
    const file = resolve(import.meta.dirname, "..", "examples", "listen.ts");
    const { stdout } = await run(process.execPath, [file], { timeout: 90_000 });
    expect(stdout).toMatch(/confirmed L1 event #\d+: lock sequencer 1 nonce 1/);
    expect(stdout).toMatch(/confirmed L1 event #\d+: increase sequencer 1 nonce 2/);
    expect(stdout).toContain("amount: 500000000000000000000n");
    expect(stdout).toMatch(/confirmed L1 event #\d+: deposit/);
    expect(stdout).toMatch(/listener cursor at L1 block \d+, head \d+, 5 events stored/);
  }, 120_000);
});
