import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("examples/dkgAndSign.ts (the README example)", () => {
  it("runs and prints a verifying signature in L1 form", async () => {
    const file = join(import.meta.dirname, "..", "examples", "dkgAndSign.ts");
    const { stdout } = await run(process.execPath, [file], { timeout: 60_000 });
    expect(stdout).toMatch(/group key 0x0[23][0-9a-f]{64} \(3-of-4\)/);
    expect(stdout).toContain("noble verifies: true");
    expect(stdout).toContain("L1 equation holds: true");
    expect(stdout).toMatch(/"rx": "0x[0-9a-f]{64}"/);
    expect(stdout).toContain("unapproved message: TSS_SIGN_QUORUM_UNREACHABLE");
  }, 90_000);
});
