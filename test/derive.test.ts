// e2e of #18 on a real dev L1 (EDR with the devnet's forwarder and beacon blob server): an L2
// chain built the way the node builds it (transfers, one deposit entry) is posted as calldata
// and blob batches under a test FROST key; a verifier started afterwards from L1 alone derives
// every block with the original hashes, resumes from its own store after a restart, never
// derives an unconfirmed batch (an L1 reorg removes one), keeps following new batches, and
// halts with a specific error on a batch the group signed with a wrong state root; then the
// same as a `dseq derive` process. afterAll stops EDR and removes the temp dirs.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchDataKind, type BatchTip } from "../packages/batch-submitter/src/index.ts";
import { createFrostGroup } from "../packages/batch-submitter/test/helpers.ts";
import {
  bytesToHex,
  createLogger,
  createMetrics,
  type Hex,
  type Metrics,
} from "../packages/common/src/index.ts";
import { rpcCall } from "../packages/devnet/src/jsonRpc.ts";
import { type DevnetL1, startDevnetL1 } from "../packages/devnet/src/l1.ts";
import { devL1Accounts, rpc } from "../packages/l1-contracts/src/index.ts";
import type { Chain } from "../packages/l2-exec/src/index.ts";
import { Deriver } from "../packages/node/src/derive/deriver.ts";
import { DeriveErrorCode } from "../packages/node/src/derive/errors.ts";
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

const log = createLogger({ level: "warn", base: { test: "derive-e2e" } });
const CONFIRMATIONS = 2;
const ZERO = `0x${"00".repeat(32)}` as Hex;

let dir: string;
let l1: DevnetL1;
let l2: L2Builder;
let post: PostCtx;
let cli: ChildProcess | undefined;
let tip: BatchTip = { batchIndex: 0n, batchHash: ZERO, lastBlock: 0n };

const mine = async (n = CONFIRMATIONS + 1) => {
  for (let i = 0; i < n; i++) await rpc(l1.directUrl, "evm_mine", []);
};

async function postNext(count: number, kind: BatchDataKind): Promise<void> {
  const from = Number(tip.lastBlock);
  const r = await postBatch(post, tip, l2.blocks.slice(from, from + count), kind);
  tip = r.tip;
}

function startVerifier(chain: Chain, metrics = createMetrics()): Deriver {
  const d = l1.deployment;
  return new Deriver(
    {
      dataDir: join(dir, "verifier"),
      l2ChainId: L2_CHAIN_ID,
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
      beaconUrl: l1.beaconUrl,
      retryMs: 100,
    },
    { chain, logger: log, metrics },
  );
}

const metricOf = async (m: Metrics, name: string) => (await m.values(name))[0]?.value;

async function expectSameBlocks(chain: Chain, upTo: number): Promise<void> {
  for (let n = 1; n <= upTo; n++) {
    const b = await chain.getBlockByNumber(n);
    expect(b && bytesToHex(b.hash()), `block ${n}`).toBe(l2.blocks[n - 1]!.hash);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dseq-derive-"));
  const group = createFrostGroup(2, 3);
  l1 = await startDevnetL1({ l2ChainId: Number(L2_CHAIN_ID), groupKey: group.groupKey, logger: log });
  post = {
    rpcUrl: l1.rpcUrl, // through the forwarder: blob sidecars reach the beacon server
    l1ChainId: l1.chainId,
    inbox: l1.deployment.batchInbox,
    privateKey: devL1Accounts(24)[20]!.privateKey,
    signer: group.signer,
  };
  // The original chain, as a proposer builds it; block 5 takes the L1 deposit (entry 0).
  l2 = l2Builder(await openChain(join(dir, "original")));
  const alice = "0x00000000000000000000000000000000000a11ce" as Hex;
  await l1.deposit(alice, 5n * 10n ** 18n);
  for (let n = 1; n <= 36; n++) {
    await l2.next(
      n === 5 ? { deposits: [{ type: "deposit", index: 0n, to: alice, amount: 5n * 10n ** 18n }] } : {},
    );
  }
  await postNext(12, BatchDataKind.calldata);
  await postNext(12, BatchDataKind.blobs);
  await postNext(12, BatchDataKind.calldata);
  await mine();
}, 180_000);

afterAll(async () => {
  cli?.kill("SIGKILL");
  await l2?.chain.close();
  await l1?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("derive the L2 from L1 alone", () => {
  it("derives calldata and blob batches to the same block hashes, resumes from its store, follows, refuses a bad batch", async () => {
    let chain = await openChain(join(dir, "verifier", "chain"));
    const metrics = createMetrics();
    let v = startVerifier(chain, metrics);
    await v.start();
    await v.waitForBlock(36n, 60_000);
    expect(await metricOf(metrics, "dseq_derive_head")).toBe(36);
    expect(await metricOf(metrics, "dseq_derive_batches_total")).toBe(3);
    expect(await metricOf(metrics, "dseq_derive_halted")).toBe(0);
    await expectSameBlocks(chain, 36);
    const s = v.status();
    expect(s.lastBatchIndex).toBe(3n);
    expect(s.derivedHash).toBe(l2.blocks[35]!.hash);
    expect(s.halted).toBeUndefined();
    // The deposit arrived through the verifier's own L1 view.
    expect(await chain.getBalance("0x00000000000000000000000000000000000a11ce", "latest")).toBe(
      5n * 10n ** 18n,
    );
    expect(bytesToHex((await chain.getBlock("finalized"))!.hash())).toBe(l2.blocks[35]!.hash);

    // Restart: the tip comes from the store, nothing is derived again.
    await v.stop();
    await chain.close();
    chain = await openChain(join(dir, "verifier", "chain"));
    const metrics2 = createMetrics();
    v = startVerifier(chain, metrics2);
    await v.start();
    expect(v.status().derivedHead).toBe(36n);
    expect(v.status().lastBatchL1Block).toBe(s.lastBatchL1Block);

    // An unconfirmed batch is never derived, and an L1 reorg that removes it leaves nothing
    // behind: a bad batch lands one block deep (confirmations 2), the reorg replaces it.
    for (let n = 0; n < 6; n++) await l2.next();
    const snapshot = await rpc<Hex>(l1.directUrl, "evm_snapshot", []);
    await postBatch(post, tip, l2.blocks.slice(36, 42), BatchDataKind.calldata, (h) => ({
      ...h,
      stateRoot: `0x${"cd".repeat(32)}`,
    }));
    await mine(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(v.status().derivedHead).toBe(36n);
    expect(v.status().halted).toBeUndefined();
    expect(await rpc(l1.directUrl, "evm_revert", [snapshot])).toBe(true);

    // It keeps following: the replacing blob batch lands.
    await postNext(6, BatchDataKind.blobs);
    await mine();
    await v.waitForBlock(42n, 60_000);
    await expectSameBlocks(chain, 42);

    // A batch the group signed with a wrong state root: the verifier halts naming batch, block, field.
    for (let n = 0; n < 4; n++) await l2.next();
    await postBatch(post, tip, l2.blocks.slice(42, 46), BatchDataKind.calldata, (h) => ({
      ...h,
      stateRoot: `0x${"ab".repeat(32)}`,
    }));
    await mine();
    const halted = await (async () => {
      for (let i = 0; i < 200; i++) {
        const h = v.status().halted;
        if (h) return h;
        await new Promise((r) => setTimeout(r, 100));
      }
      return undefined;
    })();
    expect(halted?.code).toBe(DeriveErrorCode.StateRoot);
    expect(halted?.message).toMatch(/^batch 5, block 46, stateRoot: expected 0xabab/);
    expect(v.status().derivedHead).toBe(42n);
    expect(await metricOf(metrics2, "dseq_derive_halted")).toBe(1);
    expect(bytesToHex((await chain.getBlock("finalized"))!.hash())).toBe(l2.blocks[41]!.hash);
    expect(chain.head().header.number).toBe(45n); // the last block of a refused batch is never committed
    await v.stop();
    await chain.close();
  }, 240_000);

  it("dseq derive: a verifier process from the config's l1 section serves the derived chain and dseq_syncStatus", async () => {
    const home = join(dir, "cli");
    const port = await freePort();
    const d = l1.deployment;
    writeFileSync(join(dir, "spec.json"), chainSpecJson());
    writeFileSync(
      join(dir, "verifier.json"),
      JSON.stringify({
        dataDir: home,
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
    const bin = join(import.meta.dirname, "..", "packages", "node", "bin", "dseq.mjs");
    const child = spawn(
      process.execPath,
      [bin, "derive", "--config", join(dir, "verifier.json"), "--beacon", l1.beaconUrl],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    cli = child;
    let stderr = "";
    child.stderr?.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    const url = `http://127.0.0.1:${port}`;
    type Status = {
      derivedHead: string;
      lastBatchIndex: string;
      lastBatchL1Block: string;
      halted?: { code: string };
    };
    let status: Status | undefined;
    for (let i = 0; i < 600 && !status?.halted; i++) {
      status = await rpcCall<Status>(url, "dseq_syncStatus", [], 2000).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Batches 1-4 derived (calldata and blobs), batch 5 (wrong state root) refused.
    expect(status?.derivedHead, stderr).toBe("0x2a");
    expect(status?.lastBatchIndex).toBe("0x4");
    expect(status?.halted?.code).toBe(DeriveErrorCode.StateRoot);
    const b = await rpcCall<{ hash: string }>(url, "eth_getBlockByNumber", ["0x2a", false], 2000);
    expect(b.hash).toBe(l2.blocks[41]!.hash);
    const refused = await rpcCall(url, "eth_sendRawTransaction", ["0x02"], 2000).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
    const exit = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
    cli = undefined;
  }, 120_000);
});
