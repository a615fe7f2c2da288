import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("examples", () => {
  it("twoHosts runs and prints what the README says", async () => {
    const file = join(import.meta.dirname, "..", "examples", "twoHosts.ts");
    const { stdout } = await run(process.execPath, [file], { timeout: 30_000 });
    expect(stdout).toMatch(/B received a batch of 100 transactions from validator A/);
    expect(stdout).toMatch(/B synced 200 blocks with certificates from A/);
    expect(stdout).toMatch(/B got a direct TSS message of 64 bytes from 0x[0-9a-f]{40}/);
    expect(stdout).toMatch(/validator=true state=ready/);
  }, 40_000);
});
