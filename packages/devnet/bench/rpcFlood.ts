/**
 * `rpc_flood_slot_ratio` of `pnpm bench rpc` (issue #16), run by `packages/node/bench/rpc.bench.ts`
 * as its own process: a 4-validator network of real `dseq start` processes (no L1) while every
 * validator serves a flood of 50M-gas tight-loop `eth_call`s (8 in flight per validator for
 * 30 s, each answered or stopped by the node's EVM timeout). Prints one JSON line:
 * `{blocks, slots, ratio, calls, refused}`. Blocks made / slots elapsed are counted between the
 * first and the last new head seen during the flood, so partial slots at the edges do not count.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevnet } from "../src/devnet.ts";

const FLOOD_MS = 30_000;
const IN_FLIGHT = 8;
const GAS_CAP = "0x2faf080"; // 50,000,000
/** JUMPDEST PUSH1 0 JUMP: a loop that runs until the gas or the EVM timeout ends it. */
const LOOP_CODE = "0x5b600056";
const LOOP_AT = "0x00000000000000000000000000000000100f100f";

async function rpc(
  url: string,
  method: string,
  params: unknown[],
): Promise<{ result?: unknown; error?: { code: number } }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return (await res.json()) as { result?: unknown; error?: { code: number } };
}

async function head(url: string): Promise<number> {
  const r = await rpc(url, "eth_blockNumber", []);
  return Number(BigInt(r.result as string));
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "rpc-flood-"));
  const net = await startDevnet({ dataDir: join(root, "net"), validators: 4, followers: 0, fresh: true });
  let calls = 0;
  let refused = 0;
  try {
    const urls = net.validators.map((v) => v.rpcUrl as string);
    const watch = urls[0] as string;
    // Start once the chain is at the present (a fresh network first produces the slots since
    // its genesis timestamp back to back), so every slot counted is a real-time slot.
    for (;;) {
      const b = await rpc(watch, "eth_getBlockByNumber", ["latest", false]);
      const ts = Number(BigInt((b.result as { timestamp: string } | null)?.timestamp ?? "0x0"));
      if ((await head(watch)) >= 2 && ts * 1000 >= Date.now() - 2 * net.blockTimeMs) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const end = performance.now() + FLOOD_MS;
    const flood = urls.flatMap((url) =>
      Array.from({ length: IN_FLIGHT }, async () => {
        while (performance.now() < end) {
          const r = await rpc(url, "eth_call", [
            { to: LOOP_AT, gas: GAS_CAP },
            "latest",
            { [LOOP_AT]: { code: LOOP_CODE } },
          ]).catch(() => ({ error: { code: 0 } }));
          calls++;
          if (r.error?.code === -32005) refused++;
        }
      }),
    );
    let first: { at: number; n: number } | undefined;
    let last: { at: number; n: number } | undefined;
    let seen = await head(watch);
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      const n = await head(watch);
      if (n !== seen) {
        seen = n;
        const at = performance.now();
        first ??= { at, n };
        last = { at, n };
      }
    }
    await Promise.all(flood);
    const blocks = first && last ? last.n - first.n : 0;
    const slots = first && last ? Math.round((last.at - first.at) / net.blockTimeMs) : 0;
    const ratio = slots > 0 ? blocks / slots : 0;
    process.stdout.write(
      `${JSON.stringify({ blocks, slots, ratio, calls, refused, blockTimeMs: net.blockTimeMs })}\n`,
    );
  } finally {
    await net.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
