import { spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { createPublicClient, http, parseEther } from "viem";
import { describe, expect, it } from "vitest";
import { devL1Accounts, rpc, startDevL1 } from "../src/devL1.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("startDevL1", () => {
  it("starts EDR on 127.0.0.1 with funded accounts, mines on an interval, and stops the process", async () => {
    const l1 = await startDevL1({
      accounts: 3,
      balanceWei: parseEther("5"),
      chainId: 1337,
      blockTimeSeconds: 1,
    });
    try {
      expect(l1.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(alive(l1.pid)).toBe(true);
      expect(l1.accounts).toEqual(devL1Accounts(3));
      expect(l1.accounts[0]!.address).toBe("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
      const client = createPublicClient({ transport: http(l1.rpcUrl) });
      expect(await client.getChainId()).toBe(1337);
      for (const a of l1.accounts)
        expect(await client.getBalance({ address: a.address })).toBe(parseEther("5"));
      const n0 = BigInt(await rpc<string>(l1.rpcUrl, "eth_blockNumber", []));
      await new Promise((r) => setTimeout(r, 2_500));
      expect(BigInt(await rpc<string>(l1.rpcUrl, "eth_blockNumber", []))).toBeGreaterThan(n0);
      expect(await rpc<string>(l1.rpcUrl, "web3_clientVersion", [])).toMatch(/edr|hardhat/i);
    } finally {
      await l1.stop();
    }
    expect(alive(l1.pid)).toBe(false);
    await l1.stop(); // twice is fine
    await expect(fetch(l1.rpcUrl)).rejects.toThrow();
  }, 60_000);

  it("removes its working directory on stop", async () => {
    const l1 = await startDevL1({ accounts: 1 });
    expect(existsSync(join(l1.workDir, "hardhat.config.js"))).toBe(true);
    await l1.stop();
    expect(existsSync(l1.workDir)).toBe(false);
    expect(alive(l1.pid)).toBe(false);
  }, 60_000);

  it("the node exits by itself when the process that started it is killed with SIGKILL", async () => {
    const script = `
      import { startDevL1 } from ${JSON.stringify(resolve(import.meta.dirname, "..", "src", "devL1.ts"))};
      const l1 = await startDevL1({ accounts: 1 });
      process.stdout.write(JSON.stringify({ pid: l1.pid, workDir: l1.workDir }) + "\\n");
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise<string>((ok, fail) => {
      let out = "";
      parent.stdout.on("data", (c: Buffer) => {
        out += c.toString();
        if (out.includes("\n")) ok(out.trim());
      });
      parent.once("exit", (code) => fail(new Error(`parent exited early: ${code}`)));
    });
    const { pid, workDir } = JSON.parse(line) as { pid: number; workDir: string };
    expect(alive(pid)).toBe(true);
    parent.kill("SIGKILL");
    const deadline = Date.now() + 10_000;
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(alive(pid)).toBe(false);
    rmSync(workDir, { recursive: true, force: true }); // the killed parent could not clean up
  }, 60_000);
});
