import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("examples/deployDevnet.ts", () => {
  it("runs as the README shows", async () => {
    const file = resolve(import.meta.dirname, "..", "examples", "deployDevnet.ts");
    const { stdout } = await run(process.execPath, [file], { timeout: 90_000 });
    expect(stdout).toContain("deployed:");
    expect(stdout).toMatch(
      /sequencer 1 locked: 20000000000000000000000n signer 0x70997970C51812dc3A010C7d01b50e0d17dc79C8/,
    );
    expect(stdout).toMatch(/deposit mined in L1 block \d+/);
    expect(stdout).toMatch(/batch 1 appended, gas \d+/);
  }, 120_000);
});
