import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, equalsBytes } from "@ethereumjs/util";
import { afterAll, describe, expect, it } from "vitest";
import { createChain, orderedTrieRoot } from "../src/index.ts";
import { testAccounts, testChainConfig } from "./fixtures.ts";

const child = join(import.meta.dirname, "crashChild.ts");
const senders = testAccounts(10, "crash");
const config = testChainConfig({ senders, fillers: 20 });

/** Runs the child until `killAfterMs`, SIGKILLs it, returns the last block it reported committed. */
function runAndKill(dataDir: string, killAfterMs: number): Promise<{ lastReported: number; opened: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child, dataDir], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let timer: NodeJS.Timeout | undefined;
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      // start the clock once the chain is open, so kills land in the commit loop
      if (timer === undefined && out.includes("opened"))
        timer = setTimeout(() => p.kill("SIGKILL"), killAfterMs);
    });
    p.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const guard = setTimeout(() => p.kill("SIGKILL"), 20_000);
    p.on("exit", (_code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      if (signal !== "SIGKILL") return reject(new Error(`child exited on its own: ${err}`));
      const nums = [...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1]));
      const opened = Number(/opened (\d+)/.exec(out)?.[1] ?? -1);
      resolve({ lastReported: nums.length > 0 ? (nums.at(-1) as number) : opened, opened });
    });
  });
}

describe("crash safety: SIGKILL during the commit loop", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("after every kill the store reopens at the last completed commit, state and indexes consistent", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "l2exec-crash-"));
    dirs.push(dataDir);
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    let kills = 0;
    let prevHead = 0n;
    const started = Date.now();
    while (kills < 25 && Date.now() - started < 25_000) {
      const { lastReported, opened } = await runAndKill(dataDir, 30 + Math.floor(rand() * 300));
      kills++;
      const chain = await createChain({ dataDir, chainConfig: config });
      try {
        const head = chain.head();
        const n = head.header.number;
        // The head is the last commit that completed: the one reported, or one more whose
        // batch landed before the kill but whose report did not get out.
        expect(Number(n) === lastReported || Number(n) === lastReported + 1).toBe(true);
        expect(n >= prevHead).toBe(true);
        expect(Number(n)).toBeGreaterThanOrEqual(opened);
        prevHead = n;
        // nothing beyond the head is indexed
        expect(await chain.getBlockByNumber(n + 1n)).toBeUndefined();
        // safe and finalized moved in the same batch
        expect(chain.finalized().header.number).toBe(n);
        // every block up to the head: canonical, receipts matching the header, tx lookups,
        // certificate; every sender's nonce in the head state equals its txs in the chain
        const sent = new Map<string, bigint>();
        for (let i = 1n; i <= n; i++) {
          const b = await chain.getBlockByNumber(i);
          expect(b).toBeDefined();
          const block = b as NonNullable<typeof b>;
          const raw = await chain.getRawReceipts(block.hash());
          expect(raw?.length).toBe(block.transactions.length);
          expect(equalsBytes(orderedTrieRoot(raw as Uint8Array[]), block.header.receiptTrie)).toBe(true);
          expect(bytesToHex((await chain.getCommitCertificate(i)) as Uint8Array)).toBe(
            bytesToHex(block.hash()),
          );
          for (const [idx, tx] of block.transactions.entries()) {
            const l = await chain.getTransaction(tx.hash());
            expect(l?.blockNumber).toBe(i);
            expect(l?.index).toBe(idx);
            const from = tx.getSenderAddress().toString();
            sent.set(from, (sent.get(from) ?? 0n) + 1n);
          }
        }
        for (const s of senders) expect(await chain.getNonce(s.address)).toBe(sent.get(s.address) ?? 0n);
        // the head state is complete: a block re-executes on it
        if (n > 0n) {
          const again = await chain.executeBlock(head);
          expect(again.differences).toEqual([]);
        }
      } finally {
        await chain.close();
      }
    }
    expect(kills).toBeGreaterThanOrEqual(10);
    expect(prevHead).toBeGreaterThan(5n);
  }, 90_000);
});
