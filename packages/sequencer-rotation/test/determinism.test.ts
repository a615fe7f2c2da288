import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { runScenario } from "./scenario.ts";

const run = promisify(execFile);
const script = fileURLToPath(new URL("./fixtures/scenarioMain.ts", import.meta.url));

describe("determinism across processes", () => {
  it("gives the same schedule, rewards and snapshot in separate processes", { timeout: 60_000 }, async () => {
    const [a, b] = await Promise.all([
      run(process.execPath, [script], { timeout: 50_000 }),
      run(process.execPath, [script], { timeout: 50_000 }),
    ]);
    const ra = JSON.parse(a.stdout);
    const rb = JSON.parse(b.stdout);
    const local = runScenario();
    expect(ra).toEqual(rb);
    expect(ra).toEqual(local);
    // The scenario exercises what must agree: re-elections, checkpoints, payouts.
    expect(local.reelections).toBeGreaterThan(0);
    expect(local.checkpoints).toBe(15);
    expect(BigInt(local.totalPaid)).toBeGreaterThan(0n);
  });
});
