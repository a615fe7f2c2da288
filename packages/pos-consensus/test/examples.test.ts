import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("examples", () => {
  it("localNetwork.ts decides five heights with valid certificates", { timeout: 60_000 }, async () => {
    const file = join(import.meta.dirname, "..", "examples", "localNetwork.ts");
    const { stdout } = await run(process.execPath, [file], { timeout: 50_000 });
    for (let h = 1; h <= 5; h++)
      expect(stdout).toMatch(new RegExp(`height ${h} committed in round \\d+: .*certificate valid`));
    expect(stdout).not.toContain("INVALID");
    expect(stdout).toContain("5 heights decided by 4 validators");
  });
});
