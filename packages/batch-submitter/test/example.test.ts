import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("examples/postBatch.ts", () => {
  it("runs as the README shows", async () => {
    const file = resolve(import.meta.dirname, "..", "examples", "postBatch.ts");
    const { stdout } = await run(process.execPath, [file], { timeout: 90_000 });
    expect(stdout).toMatch(/batch 1 posted: blocks 1\.\.5, gas \d+/);
    expect(stdout).toMatch(/batch hash 0x[0-9a-f]{64}/);
    expect(stdout).toContain("decoded 5 blocks, 15 txs, identical: true");
  }, 120_000);
});
