import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("examples/rotation.ts", () => {
  it("runs and shows a re-election, a new span and a checkpoint", { timeout: 30_000 }, async () => {
    const script = fileURLToPath(new URL("../examples/rotation.ts", import.meta.url));
    const { stdout } = await run(process.execPath, [script], { timeout: 25_000 });
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^span 0 \(heights 1-5\) sequencer 0x[0-9a-f]{40}$/);
    expect(lines.filter((l) => l.startsWith("  validator"))).toHaveLength(3);
    expect(stdout).toContain("power 100000"); // 150,000 locked, capped
    expect(stdout).toMatch(/re-election at height 4: 0x[0-9a-f]{40} replaced by 0x[0-9a-f]{40} from 5/);
    expect(stdout).toMatch(/^span 1 \(heights 6-10\)/m);
    expect(stdout).toMatch(/^checkpoint 0 heights 1-10 total \d+ wei$/m);
    expect(lines.filter((l) => l.startsWith("height "))).toHaveLength(10);
  });
});
