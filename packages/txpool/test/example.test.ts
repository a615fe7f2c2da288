import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

describe("examples/basic.ts", () => {
  it("runs and prints what the README says", { timeout: 60_000 }, async () => {
    const file = join(import.meta.dirname, "..", "examples", "basic.ts");
    const { stdout } = await promisify(execFile)(process.execPath, [file], { timeout: 50_000 });
    expect(stdout).toContain("resend: already known");
    expect(stdout).toContain("status { pending: 4, queued: 0 }");
    expect(stdout).toContain("block order [ 'bob#0', 'alice#0', 'alice#1', 'alice#2' ]");
    expect(stdout).toContain("status after commit { pending: 0, queued: 0 } alice pending nonce 3n");
    expect(stdout.match(/removed 0x[0-9a-f]{8} included/g)).toHaveLength(4);
  });
});
