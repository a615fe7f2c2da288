// e2e of #18's reorg rule (ADR 0184) on a real dev L1 (EDR): batches derived by a verifier, then
// an L1 reorg deeper than the confirmations (evm_snapshot / evm_revert, then other blocks) removes
// the last one. The verifier rewinds its chain store to the previous batch and derives again:
// a different batch at that index gives the new chain's block hashes over RPC (the old blocks and
// their transactions gone); the same batch included again gives the same chain; blocks a refused
// batch left above the tip go when another batch takes its index. afterAll stops
// the verifier and EDR and removes the temp dirs.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchDataKind, type BatchTip, type CommittedBlock } from "../packages/batch-submitter/src/index.ts";
import { createFrostGroup } from "../packages/batch-submitter/test/helpers.ts";
import { createLogger, createMetrics, type Hex, type Metrics } from "../packages/common/src/index.ts";
import { rpcCall } from "../packages/devnet/src/jsonRpc.ts";
import { type DevnetL1, startDevnetL1 } from "../packages/devnet/src/l1.ts";
import { devL1Accounts, rpc } from "../packages/l1-contracts/src/index.ts";
import { loadChainSpec } from "../packages/node/src/chainSpec.ts";
import { loadNodeConfig } from "../packages/node/src/config.ts";
import { DeriveErrorCode } from "../packages/node/src/derive/errors.ts";
import { type RunningVerifier, startVerifier } from "../packages/node/src/derive/startVerifier.ts";
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

const log = createLogger({ level: "warn", base: { test: "derive-reorg" } });
const CONFIRMATIONS = 2;
const ZERO = `0x${"00".repeat(32)}` as Hex;

let dir: string;
let l1: DevnetL1;
let post: PostCtx;
/** The chain first posted, and the one that replaces its second batch after the reorg. */
let orig: L2Builder;
let alt: L2Builder;
/** Follows alt to block 22, then differs (two transactions a block). */
let alt2: L2Builder;
let verifier: RunningVerifier | undefined;
let url: string;
let metrics: Metrics;

const mine = async (n: number) => {
  for (let i = 0; i < n; i++) await rpc(l1.directUrl, "evm_mine", []);
};
const l1Head = async () => BigInt(await rpc<Hex>(l1.directUrl, "eth_blockNumber", []));
const metricOf = async (name: string) => (await metrics.values(name))[0]?.value ?? 0;

async function post1(tip: BatchTip, blocks: readonly CommittedBlock[]): Promise<BatchTip> {
  return (await postBatch(post, tip, blocks, BatchDataKind.calldata)).tip;
}

/** Reverts L1 to `snapshot` and runs `land` there; then L1 grows past where it was, confirmed. */
async function reorg(snapshot: Hex, land: () => Promise<void>): Promise<void> {
  const before = await l1Head();
  expect(await rpc(l1.directUrl, "evm_revert", [snapshot])).toBe(true);
  await land();
  const now = await l1Head();
  await mine(Number(before - now) + CONFIRMATIONS + 2);
}

type RpcBlock = { hash: Hex; transactions: Hex[] } | null;
const blockAt = (n: bigint) => rpcCall<RpcBlock>(url, "eth_getBlockByNumber", [`0x${n.toString(16)}`, false]);

async function waitFor(what: string, ok: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await ok())) {
    const h = verifier?.deriver.status().halted;
    if (h) throw new Error(`verifier halted waiting for ${what}: ${h.code} ${h.message}`);
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function expectServed(chain: L2Builder, from: number, to: number): Promise<void> {
  for (let n = from; n <= to; n++)
    expect((await blockAt(BigInt(n)))?.hash, `block ${n}`).toBe(chain.blocks[n - 1]!.hash);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "dseq-derive-reorg-"));
  const group = createFrostGroup(2, 3);
  l1 = await startDevnetL1({ l2ChainId: Number(L2_CHAIN_ID), groupKey: group.groupKey, logger: log });
  post = {
    rpcUrl: l1.rpcUrl,
    l1ChainId: l1.chainId,
    inbox: l1.deployment.batchInbox,
    privateKey: devL1Accounts(24)[20]!.privateKey,
    signer: group.signer,
  };
  // Two L2 chains that agree on blocks 1-8 and differ from block 9 (fewer transactions a block).
  orig = l2Builder(await openChain(join(dir, "orig")));
  alt = l2Builder(await openChain(join(dir, "alt")));
  for (let n = 1; n <= 16; n++) {
    await orig.next();
    await alt.next(n <= 8 ? {} : { txs: 1 });
  }
  for (let n = 0; n < 8; n++) expect(alt.blocks[n]!.hash).toBe(orig.blocks[n]!.hash);
  expect(alt.blocks[8]!.hash).not.toBe(orig.blocks[8]!.hash);

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
  verifier = await restartVerifier();
}, 180_000);

async function restartVerifier(): Promise<RunningVerifier> {
  await verifier?.stop();
  verifier = undefined;
  const config = loadNodeConfig(join(dir, "verifier.json"));
  metrics = createMetrics();
  return startVerifier(config, loadChainSpec(config.chain.genesis), { logger: log, metrics });
}

afterAll(async () => {
  await verifier?.stop();
  await orig?.chain.close();
  await alt?.chain.close();
  await alt2?.chain.close();
  await l1?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("an L1 reorg that removes a derived batch", () => {
  let tip1: BatchTip;
  let tip2: BatchTip;
  let tip3: BatchTip;

  it("rewinds the derived chain to the previous batch and derives the batch that replaced it", async () => {
    tip1 = await post1({ batchIndex: 0n, batchHash: ZERO, lastBlock: 0n }, orig.blocks.slice(0, 8));
    await mine(CONFIRMATIONS + 1);
    const snapshot = await rpc<Hex>(l1.directUrl, "evm_snapshot", []);
    await post1(tip1, orig.blocks.slice(8, 16));
    await mine(CONFIRMATIONS + 1);
    await waitFor("block 16", async () => verifier!.deriver.status().derivedHead === 16n);
    await expectServed(orig, 1, 16);
    const oldBlock12 = (await blockAt(12n))!;
    expect(oldBlock12.transactions.length).toBe(4);

    // Batch 2 leaves L1; the other chain's batch 2 lands at the same index.
    await reorg(snapshot, async () => {
      tip2 = await post1(tip1, alt.blocks.slice(8, 16));
    });
    await waitFor(
      "the other chain's block 16",
      async () => verifier!.deriver.status().derivedHash === alt.blocks[15]!.hash,
    );
    expect(await metricOf("dseq_derive_rewinds_total")).toBe(1);
    expect(await metricOf("dseq_derive_halted")).toBe(0);
    const s = verifier!.deriver.status();
    expect(s.lastBatchIndex).toBe(2n);
    expect(s.derivedHead).toBe(16n);
    await expectServed(alt, 1, 16);
    // The old block 12 and its transactions are gone; finalized is the new chain's.
    expect(await rpcCall(url, "eth_getBlockByHash", [oldBlock12.hash, false])).toBeNull();
    expect(await rpcCall(url, "eth_getTransactionByHash", [oldBlock12.transactions[0]])).toBeNull();
    const fin = await rpcCall<{ hash: Hex }>(url, "eth_getBlockByNumber", ["finalized", false]);
    expect(fin.hash).toBe(alt.blocks[15]!.hash);
  }, 240_000);

  it("the same batch included again after a reorg gives the same chain", async () => {
    for (let n = 0; n < 6; n++) await alt.next();
    const snapshot = await rpc<Hex>(l1.directUrl, "evm_snapshot", []);
    await post1(tip2, alt.blocks.slice(16, 22));
    await mine(CONFIRMATIONS + 1);
    await waitFor("block 22", async () => verifier!.deriver.status().derivedHead === 22n);
    await expectServed(alt, 17, 22);
    const l1Before = verifier!.deriver.status().lastBatchL1Block;

    await reorg(snapshot, async () => {
      await mine(1); // the batch lands in another L1 block
      tip3 = await post1(tip2, alt.blocks.slice(16, 22));
    });
    await waitFor("batch 3 on its new L1 block", async () => {
      const st = verifier!.deriver.status();
      return st.derivedHead === 22n && st.lastBatchL1Block !== l1Before;
    });
    expect(await metricOf("dseq_derive_rewinds_total")).toBe(2);
    expect(verifier!.deriver.status().halted).toBeUndefined();
    expect(verifier!.deriver.status().derivedHash).toBe(alt.blocks[21]!.hash);
    await expectServed(alt, 1, 22);
  }, 240_000);

  it("blocks a refused batch left above the tip are dropped when another batch takes its index", async () => {
    // alt2 repeats alt's first 22 blocks (same options, same transactions), then differs.
    alt2 = l2Builder(await openChain(join(dir, "alt2")));
    for (let n = 1; n <= 28; n++) await alt2.next(n <= 8 || n > 16 ? (n > 22 ? { txs: 2 } : {}) : { txs: 1 });
    for (let n = 0; n < 6; n++) await alt.next();
    expect(alt2.blocks[21]!.hash).toBe(alt.blocks[21]!.hash);
    expect(alt2.blocks[22]!.hash).not.toBe(alt.blocks[22]!.hash);
    const snapshot = await rpc<Hex>(l1.directUrl, "evm_snapshot", []);
    const bad = await postBatch(post, tip3, alt.blocks.slice(22, 28), BatchDataKind.calldata, (h) => ({
      ...h,
      stateRoot: `0x${"ab".repeat(32)}`,
    }));
    expect(bad.header.batchIndex).toBe(4n);
    await mine(CONFIRMATIONS + 1);
    for (let i = 0; i < 600 && !verifier!.deriver.status().halted; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(verifier!.deriver.status().halted?.code).toBe(DeriveErrorCode.StateRoot);
    expect(verifier!.chain.head().header.number).toBe(27n); // blocks 23-27 of the refused batch stay
    expect((await blockAt(23n))?.hash).toBe(alt.blocks[22]!.hash);

    await reorg(snapshot, async () => {
      await post1(tip3, alt2.blocks.slice(22, 28));
    });
    verifier = await restartVerifier();
    await waitFor(
      "alt2's block 28",
      async () => verifier!.deriver.status().derivedHash === alt2.blocks[27]!.hash,
    );
    expect(await metricOf("dseq_derive_rewinds_total")).toBe(1);
    await expectServed(alt2, 1, 28);
    expect(await rpcCall(url, "eth_getBlockByHash", [alt.blocks[22]!.hash, false])).toBeNull();
  }, 240_000);
});
