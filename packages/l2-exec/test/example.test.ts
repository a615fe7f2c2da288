import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

describe("examples", () => {
  it("quickstart runs and prints what the README says", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(import.meta.dirname, "..", "examples", "quickstart.ts")],
      {
        timeout: 60_000,
      },
    );
    expect(stdout).toMatch(/^genesis 0x[0-9a-f]{64}$/m);
    expect(stdout).toContain("built 1 txs 1 skipped 0");
    expect(stdout).toContain("valid true");
    expect(stdout).toContain("head 1 status 1 gasUsed 21000");
    expect(stdout).toContain(`bob ${6n * 10n ** 18n}`);
  }, 60_000);
});
