// e2e of ADR 0184's crash safety: a `dseq derive` process killed with SIGKILL at each named point
// of a chain rewind (DSEQ_DERIVE_CRASH_AT) leaves a data dir that a restarted process finishes:
// it serves the chain of the batch that replaced the removed one. Real EDR L1, real processes;
// the L1 reorgs alternate between two L2 chains that differ from block 5. afterAll kills what is
// left, stops EDR and removes the temp dirs.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchDataKind, type BatchTip } from "../packages/batch-submitter/src/index.ts";
import { createFrostGroup } from "../packages/batch-submitter/test/helpers.ts";
import { createLogger, type Hex } from "../packages/common/src/index.ts";
import { rpcCall } from "../packages/devnet/src/jsonRpc.ts";
import { type DevnetL1, startDevnetL1 } from "../packages/devnet/src/l1.ts";
import { devL1Accounts, rpc } from "../packages/l1-contracts/src/index.ts";
import { RewindCrashPoint } from "../packages/node/src/derive/rewindChainStore.ts";
import {
  chainSpecJson,
  L2_CHAIN_ID,
  type L2Builder,
  l2Builder,
  openChain,
  type PostCtx,
  postBatch,
} from "../packages/node/test/helpers/deriveFixture.ts";
import { freePort } from "../packages/node/test/helpers/localNet.ts";

const log = createLogger({ level: "warn", base: { test: "derive-rewind-crash" } });
const CONFIRMATIONS = 2;
const ZERO = `0x${"00".repeat(32)}` as Hex;
const bin = resolve(import.meta.dirname, "..", "packages", "node", "bin", "dseq.mjs");

let dir: string;
let l1: DevnetL1;
let post: PostCtx;
let chains: [L2Builder, L2Builder];
let child: ChildProcess | undefined;
let url: string;

const mine = async (n: number) => {
  for (let i = 0; i < n; i++) await rpc(l1.directUrl, "evm_mine", []);
};
const l1Head = async () => BigInt(await rpc<Hex>(l1.directUrl, "eth_blockNumber", []));

function startCli(crashAt?: string): { exit: Promise<{ code: number | null; signal: string | null }> } {
  const env = { ...process.env };
  delete env.DSEQ_DERIVE_CRASH_AT;
  if (crashAt) env.DSEQ_DERIVE_CRASH_AT = crashAt;
  const c = spawn(process.execPath, [bin, "derive", "--config", join(dir, "verifier.json")], {
    env,
    stdio: ["ignore", "ignore", "ignore"],
  });
  child = c;
  return { exit: new Promise((r) => c.once("exit", (code, signal) => r({ code, signal }))) };
}

type Status = { derivedHead: string; derivedHash: Hex; lastBatchIndex: string; halted?: { code: string } };

/** Waits until the running verifier serves `chain`'s block 8 as the head of batch 2. */
async function waitServing(chain: L2Builder): Promise<void> {
  const want = chain.blocks[7]!.hash;
  for (let i = 0; i < 900; i++) {
    const s = await rpcCall<Status>(url, "dseq_syncStatus", [], 2000).catch(() => undefined);
    if (s?.halted) throw new Error(`verifier halted: ${s.halted.code}`);
    if (s?.derivedHash === want && s.lastBatchIndex === "0x2") {
      for (let n = 1; n <= 8; n++) {
        const b = await rpcCall<{ hash: Hex }>(url, "eth_getBlockByNumber", [`0x${n.toString(16)}`, false]);
        expect(b.hash, `block ${n}`).toBe(chain.blocks[n - 1]!.hash);
      }
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`verifier never served ${want}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dseq-derive-crash-"));
  const group = createFrostGroup(2, 3);
  l1 = await startDevnetL1({ l2ChainId: Number(L2_CHAIN_ID), groupKey: group.groupKey, logger: log });
  post = {
    rpcUrl: l1.rpcUrl,
    l1ChainId: l1.chainId,
    inbox: l1.deployment.batchInbox,
    privateKey: devL1Accounts(24)[20]!.privateKey,
    signer: group.signer,
  };
  chains = [l2Builder(await openChain(join(dir, "a"))), l2Builder(await openChain(join(dir, "b")))];
  for (let n = 1; n <= 8; n++) {
    await chains[0].next();
    await chains[1].next(n <= 4 ? {} : { txs: 1 });
  }
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  writeFileSync(join(dir, "spec.json"), chainSpecJson());
  const d = l1.deployment;
  writeFileSync(
    join(dir, "verifier.json"),
    JSON.stringify({
      dataDir: join(dir, "verifier"),
      chain: { genesis: join(dir, "spec.json") },
      rpc: { http: { port }, ws: { enabled: false } },
      log: { level: "warn" },
      l1: {
        endpoints: [l1.rpcUrl],
        chainId: l1.chainId,
        lockingPool: d.lockingPool,
        depositBridge: d.depositBridge,
        batchInbox: d.batchInbox,
        startBlock: Number(d.startBlock),
        confirmations: CONFIRMATIONS,
        pollIntervalMs: 100,
      },
    }),
  );
}, 180_000);

afterAll(async () => {
  child?.kill("SIGKILL");
  await chains?.[0].chain.close();
  await chains?.[1].chain.close();
  await l1?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a chain rewind killed at each crash point", () => {
  it("resumes after SIGKILL at every point and serves the replacing batch's chain", async () => {
    const calldata = BatchDataKind.calldata;
    const tip1: BatchTip = (
      await postBatch(
        post,
        { batchIndex: 0n, batchHash: ZERO, lastBlock: 0n },
        chains[0].blocks.slice(0, 4),
        calldata,
      )
    ).tip;
    await mine(CONFIRMATIONS + 1);
    let snapshot = await rpc<Hex>(l1.directUrl, "evm_snapshot", []);
    await postBatch(post, tip1, chains[0].blocks.slice(4, 8), calldata);
    await mine(CONFIRMATIONS + 1);
    const vdir = join(dir, "verifier");
    // What is on disk when the process died at each point.
    const leftAt: Record<string, string[]> = {
      [RewindCrashPoint.BeforeIntent]: ["chain"],
      [RewindCrashPoint.MidCopy]: ["chain", "chain.rewind"],
      [RewindCrashPoint.Copied]: ["chain", "chain.new"],
      [RewindCrashPoint.MidSwap]: ["chain.new", "chain.old"],
      [RewindCrashPoint.Swapped]: ["chain"],
    };
    let on = 0; // the chain whose batch 2 is on L1
    for (const point of Object.values(RewindCrashPoint)) {
      const p = startCli(point);
      await waitServing(chains[on]!);
      // Batch 2 leaves L1; the other chain's lands; the verifier rewinds and dies at `point`.
      const before = await l1Head();
      expect(await rpc(l1.directUrl, "evm_revert", [snapshot])).toBe(true);
      snapshot = await rpc<Hex>(l1.directUrl, "evm_snapshot", []);
      on = 1 - on;
      await postBatch(post, tip1, chains[on]!.blocks.slice(4, 8), calldata);
      await mine(Number(before - (await l1Head())) + CONFIRMATIONS + 2);
      const died = await Promise.race([
        p.exit,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 60_000)),
      ]);
      expect(died, point).toEqual({ code: null, signal: "SIGKILL" });
      for (const name of ["chain", "chain.rewind", "chain.new", "chain.old"])
        expect(existsSync(join(vdir, name)), `${point}: ${name}`).toBe(leftAt[point]!.includes(name));
      // A plain restart finishes the rewind and derives the replacing batch.
      const again = startCli();
      await waitServing(chains[on]!);
      child!.kill("SIGTERM");
      expect(await again.exit).toEqual({ code: 0, signal: null });
      for (const name of ["chain.rewind", "chain.new", "chain.old"])
        expect(existsSync(join(vdir, name)), `${point}: ${name} after restart`).toBe(false);
    }
    child = undefined;
  }, 480_000);
});
