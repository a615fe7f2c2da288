import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

describe("examples/server.ts (the README example)", () => {
  it("runs and prints the replies", async () => {
    const file = new URL("../examples/server.ts", import.meta.url).pathname;
    const { stdout } = await promisify(execFile)(process.execPath, [file], { timeout: 60_000 });
    expect(stdout).toContain("eth_chainId { jsonrpc: '2.0', id: 1, result: '0x385' }");
    expect(stdout).toContain("result: '0xde0b6b3a7640000'");
    expect(stdout).toMatch(/bad tag .*code: -32602/s);
    expect(stdout).toContain("newHeads 0x1");
  }, 60_000);
});
