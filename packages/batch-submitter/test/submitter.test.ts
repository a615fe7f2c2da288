import { createMetrics } from "@dseq/common";
import { rpc } from "@dseq/l1-contracts";
import { bytesToHex, decodeFunctionData, type Hex, hexToBytes, keccak256, parseEventLogs, toHex } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BatchDataKind,
  type BatchHeader,
  batchHash,
  blobHashesDigest,
  type CommittedBlock,
  decodeBatch,
  loadSubmitterState,
  type TickResult,
} from "../src/index.ts";
import { inboxAbi } from "../src/submitter/inboxAbi.ts";
import { makeBlocks } from "./fixtures.ts";
import { L2_CHAIN_ID, memorySource, startTestInbox, type TestInbox } from "./helpers.ts";

let t: TestInbox;
let chain: CommittedBlock[];

beforeAll(async () => {
  t = await startTestInbox(keccak256(toHex("genesis")));
  chain = await makeBlocks({
    kind: "transfer",
    chainId: L2_CHAIN_ID,
    blocks: 60,
    txsPerBlock: 6,
    legacyShare: 0.2,
  });
}, 90_000);

afterAll(async () => {
  await t?.stop();
});

const read = (functionName: string) =>
  t.client.readContract({
    address: t.d.batchInbox,
    abi: inboxAbi,
    functionName,
  } as never) as Promise<unknown>;

/** Ticks (mining between) until the inbox covers `upTo`; returns every result. */
async function runUntil(
  s: ReturnType<TestInbox["submitter"]>,
  upTo: bigint,
  maxTicks = 60,
): Promise<TickResult[]> {
  const out: TickResult[] = [];
  for (let i = 0; i < maxTicks; i++) {
    const r = await s.tick();
    out.push(r);
    if (r.action === "error") throw new Error(r.error);
    if ((await read("lastL2Block")) === upTo && !s.inFlight) return out;
    if (r.action === "waiting" || r.action === "mining") await t.mine();
  }
  throw new Error(
    `inbox did not reach ${upTo}: ${JSON.stringify(out.slice(-3), (_, v) => (typeof v === "bigint" ? `${v}` : v))}`,
  );
}

async function batchEvents() {
  const logs = await t.client.getContractEvents({
    address: t.d.batchInbox,
    abi: inboxAbi,
    eventName: "BatchAppended",
    fromBlock: 0n,
  });
  return parseEventLogs({ abi: inboxAbi, logs, eventName: "BatchAppended" });
}

describe("BatchSubmitter on a dev L1 (EDR)", () => {
  it("posts calldata batches covering every committed block once, in order, that decode to the blocks", async () => {
    const source = memorySource(chain.slice(0, 25));
    const metrics = createMetrics();
    const s = t.submitter(source, {}, metrics);
    const results = await runUntil(s, 25n);
    const value = async (name: string) => (await metrics.values(name)).reduce((n, v) => n + v.value, 0);
    expect(await value("dseq_batch_posted_total")).toBe(3);
    expect(await value("dseq_batch_lag_blocks")).toBe(5); // measured before the last batch was cut
    expect(await value("dseq_batch_l1_gas_total")).toBeGreaterThan(3 * 21_000);
    expect(await value("dseq_batch_posted_bytes")).toBeGreaterThan(1000);
    expect(results.filter((r) => r.action === "confirmed")).toHaveLength(3); // 10 + 10 + 5
    const evs = await batchEvents();
    expect(evs.map((e) => [e.args.batchIndex, e.args.firstBlock, e.args.lastBlock])).toEqual([
      [1n, 1n, 10n],
      [2n, 11n, 20n],
      [3n, 21n, 25n],
    ]);
    for (const e of evs) {
      const tx = await t.client.getTransaction({ hash: e.transactionHash });
      const call = decodeFunctionData({ abi: inboxAbi, data: tx.input });
      const data = hexToBytes(call.args![1] as Hex);
      const blocks = decodeBatch(data, { chainId: L2_CHAIN_ID });
      const want = chain.slice(Number(e.args.firstBlock) - 1, Number(e.args.lastBlock));
      expect(blocks.map((b) => b.transactions.map((x) => bytesToHex(x)))).toEqual(
        want.map((b) => b.transactions.map((x) => bytesToHex(x))),
      );
      expect(e.args.lastBlockHash).toBe(want[want.length - 1]!.hash);
      // Our header hash is the contract's own.
      const header = call.args![0] as BatchHeader;
      expect(
        await t.client.readContract({
          address: t.d.batchInbox,
          abi: inboxAbi,
          functionName: "batchHash",
          args: [header],
        }),
      ).toBe(batchHash(header));
      expect(e.args.batchHash).toBe(batchHash(header));
    }
    expect(await read("lastStateRoot")).toBe(chain[24]!.stateRoot);
    // Nothing new: the submitter idles rather than posting twice.
    expect((await s.tick()).action).toBe("idle");
    expect(await read("lastBatchIndex")).toBe(3n);
  });

  it("posts a blob batch whose versioned hashes match the signed data hash", async () => {
    const source = memorySource(chain.slice(0, 30));
    const s = t.submitter(source, { dataKind: BatchDataKind.blobs });
    const results = await runUntil(s, 30n);
    const done = results.find((r) => r.action === "confirmed");
    expect(done && done.action === "confirmed" && done.header.dataKind).toBe(BatchDataKind.blobs);
    const [last] = (await batchEvents()).slice(-1);
    const tx = await t.client.getTransaction({ hash: last!.transactionHash });
    expect(tx.blobVersionedHashes?.length).toBe(1);
    expect(blobHashesDigest(tx.blobVersionedHashes!)).toBe(last!.args.dataHash);
    expect(last!.args.firstBlock).toBe(26n);
  }, 120_000);

  it("replaces a stuck transaction with a fee bump, survives a restart and lands the batch exactly once", async () => {
    const source = memorySource(chain.slice(0, 40));
    await rpc(t.l1.rpcUrl, "evm_setAutomine", [false]);
    try {
      const a = t.submitter(source, { resubmitAfterMs: 0 });
      const sent = await a.tick();
      expect(sent.action).toBe("sent");
      const replaced = await a.tick();
      if (replaced.action === "error") throw new Error(replaced.error);
      expect(replaced).toMatchObject({ action: "replaced" });
      const txs = a.inFlight!.txs;
      expect(txs).toHaveLength(2);
      expect(txs[1]!.maxFeePerGas).toBeGreaterThanOrEqual((txs[0]!.maxFeePerGas * 115n) / 100n);
      expect(txs[1]!.maxPriorityFeePerGas).toBeGreaterThanOrEqual(
        (txs[0]!.maxPriorityFeePerGas * 115n) / 100n,
      );
      await a.stop();
      // A new process over the same state dir resumes the same batch (same nonce, no new signature).
      const signedBefore = t.group.signed;
      expect(loadSubmitterState(`${t.dir}/state`).inFlight?.header.batchIndex).toBe(5n);
      const b = t.submitter(source, { resubmitAfterMs: 60_000 });
      expect(b.inFlight?.nonce).toBe(a.inFlight?.nonce);
      expect(b.inFlight?.txs.map((x) => x.hash)).toEqual(txs.map((x) => x.hash));
      await t.mine();
      await rpc(t.l1.rpcUrl, "evm_setAutomine", [true]);
      await runUntil(b, 40n);
      expect(t.group.signed).toBe(signedBefore); // batch 5 was not signed again
      const evs = await batchEvents();
      expect(evs.filter((e) => e.args.batchIndex === 5n)).toHaveLength(1);
      expect(evs[evs.length - 1]!.transactionHash).toBe(txs[1]!.hash); // the replacement landed
    } finally {
      await rpc(t.l1.rpcUrl, "evm_setAutomine", [true]);
    }
  });

  it("re-sends a batch an L1 reorg removed", async () => {
    const source = memorySource(chain.slice(0, 50));
    const snap = await rpc<Hex>(t.l1.rpcUrl, "evm_snapshot", []);
    const s = t.submitter(source, { resubmitAfterMs: 0 });
    const first = await s.tick(); // automine: lands at once
    if (first.action === "error") throw new Error(first.error);
    expect(first).toMatchObject({ action: "sent" });
    expect(await read("lastBatchIndex")).toBe(6n);
    await rpc(t.l1.rpcUrl, "evm_revert", [snap]); // the block with the batch is gone
    expect(await read("lastBatchIndex")).toBe(5n);
    await runUntil(s, 50n);
    const evs = await batchEvents();
    expect(evs.map((e) => e.args.batchIndex)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
    expect(evs[5]!.args.lastBlock).toBe(50n);
  });

  it("returns an error quickly, never hangs, when L1 is down", async () => {
    const s = t.submitter(memorySource(chain), {
      rpcUrl: "http://127.0.0.1:9",
      rpcTimeoutMs: 500,
      stateDir: `${t.dir}/down`,
    });
    const t0 = Date.now();
    const r = await s.tick();
    expect(r.action).toBe("error");
    expect(Date.now() - t0).toBeLessThan(3_000);
  });
});
